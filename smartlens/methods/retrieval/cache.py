"""Retrieval indexes on disk: one ``.npz`` per guide and mode under ``data/cache/index/``, named
by a key of everything that shapes it (guide images and boxes, parameters, index version), so a
changed guide or setting never reuses a stale index."""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Settings
from ...guide import GuideRef, fingerprint
from ...storage import atomic_write_bytes

log = logging.getLogger(__name__)

#: Bumped whenever the index format or how it is built changes.
INDEX_VERSION = 5

Arrays = dict[str, np.ndarray]


@dataclass
class IndexInfo:
    """What was loaded or built, for the CLI, the benchmark and the studio."""

    mode: str
    path: Path
    built: bool  # True when built now, False when loaded from the cache
    seconds: float
    artworks: int
    entries: int
    nbytes: int
    report: dict[str, Any]


def index_key(ref: GuideRef, mode: str, extra: dict[str, Any]) -> str:
    """A short hash of everything the index depends on."""
    blob = json.dumps(
        {"v": INDEX_VERSION, "fp": fingerprint(ref.guide, ref.root, visual_only=True), "mode": mode, **extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def index_path(ref: GuideRef, mode: str, key: str, settings: Settings) -> Path:
    return settings.cache / "index" / ref.guide.name / f"{mode}-{key}.npz"


def save_index(path: Path, arrays: Arrays, meta: dict[str, Any]) -> bool:
    """Write the index atomically, then drop older indexes of the same mode.

    The cache is disposable: when it cannot be written (a read-only or broken cache folder)
    this warns and returns False, and the caller keeps serving the index it built in memory.
    """
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
    try:
        atomic_write_bytes(path, buf.getvalue())
        for old in path.parent.glob(f"{path.name.split('-')[0]}-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning(
            "could not save the index to %s (%s): using it from memory; it will be built again "
            "next start unless the cache folder %s is made writable",
            path,
            exc,
            _blocking_folder(path),
        )
        return False
    return True


def _blocking_folder(path: Path) -> Path:
    """The cache folder to fix: the first of ``path``'s folders that is not a writable folder."""
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return path.parent


def load_index(path: Path) -> tuple[Arrays, dict[str, Any]] | None:
    """(arrays, meta) of a cached index, or None when it is missing or damaged (rebuild then).

    Anything wrong with the file (truncated, not a zip, wrong contents, unreadable) only costs a
    rebuild, with a warning naming the file.
    """
    try:
        if not path.is_file():
            return None
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"]))
        if not isinstance(meta, dict):
            raise ValueError("meta is not an object")
        return arrays, meta
    except Exception as exc:  # BadZipFile, EOFError, zlib.error, OSError, ValueError, KeyError...
        log.warning("damaged index cache %s (%s: %s): building it again", path, type(exc).__name__, exc)
        return None
