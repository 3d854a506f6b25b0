"""Safe file handling: atomic writes, folder swaps and checked names.

Every file SmartLens saves goes through here, so an interrupted write or a crash never
leaves a half-written file where a good one was.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import UnsafeNameError

#: A safe identifier (guide, artwork, detail and concept ids), as a regular expression.
ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,79}$"
#: One plain file name (no folder, not hidden), as an unanchored regular expression.
FILE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}"
_NAME = re.compile(ID_PATTERN)
_FILE = re.compile(f"^{FILE_PATTERN}$")


def check_id(value: object, what: str = "id") -> str:
    """Return ``value`` if it is a safe identifier (lowercase letters, digits, '-' and '_')."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise UnsafeNameError(
            f"{what} {value!r} is not allowed: use 1-80 lowercase letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def slugify(text: str, fallback: str = "item") -> str:
    """Turn any text into a safe identifier (``'La Gioconda!'`` -> ``'la-gioconda'``)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].strip("-")
    return slug or fallback


def check_filename(value: object, what: str = "file name") -> str:
    """Return ``value`` if it is a plain file name: no folders, no '..', no hidden files."""
    if not isinstance(value, str) or not _FILE.match(value) or ".." in value:
        raise UnsafeNameError(
            f"{what} {value!r} is not allowed: a plain file name of letters, digits, '.', '-' "
            "or '_' (no folders, no '..')"
        )
    return value


def check_relative(value: object, what: str = "path") -> str:
    """A relative path inside a folder: each part a plain file name (``images/a.jpg``)."""
    if not isinstance(value, str) or not value or value.startswith("/") or "\\" in value:
        raise UnsafeNameError(f"{what} {value!r} must be a relative path like 'images/name.jpg'")
    for part in value.split("/"):
        check_filename(part, what)
    return value


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: Path, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def atomic_copy(src: Path, dest: Path) -> Path:
    """Copy a file atomically (through a temporary file next to ``dest``)."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest


_RENAME_EXCHANGE = 2  # linux/fs.h


def exchange_paths(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False where the system cannot (then the caller falls back to two renames):
    with it, a reader never finds neither of the two.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    res = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if res != 0:
        err = ctypes.get_errno()
        if err in (22, 38, 95):  # EINVAL, ENOSYS, EOPNOTSUPP: not supported here
            return False
        raise OSError(err, os.strerror(err), str(a))
    return True


@contextmanager
def staged_dir(final: Path, replace: bool = False) -> Iterator[Path]:
    """Build a folder in a temporary sibling, then swap it in whole.

    On error the temporary folder is removed and ``final`` is untouched. With ``replace``
    an existing ``final`` is swapped out only after the new one is complete.
    """
    final = Path(final)
    if final.exists() and not replace:
        raise FileExistsError(f"{final} already exists (use --force to replace it)")
    final.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".stage", dir=final.parent))
    try:
        yield stage
        trash = final.parent / f".{final.name}.{uuid.uuid4().hex[:8]}.old"
        if final.exists():
            os.replace(final, trash)
        os.replace(stage, final)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@contextmanager
def try_flock(path: Path) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` if nobody else does (yields True), else yield False at
    once; never waits. The system frees it when the holder dies, even after ``kill -9``."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:  # a read-only or missing folder: nobody can hold it here
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the only descriptor releases the lock
