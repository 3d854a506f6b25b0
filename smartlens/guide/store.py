"""Guide folders on disk: find, load, check, save and fingerprint them, safely under concurrency.

How a guide folder stays whole, whatever happens:

- every change holds the guide's lock (:mod:`.lock`): one writer at a time, across processes;
- an edit adds its new media files first, then replaces ``guide.json`` atomically (the one
  commit point), then deletes the media no longer referenced: a reader or a crash at any
  instant sees the old guide or the new one, each with all its files;
- a whole new guide (an import with ``--force``, a restore) is built and checked in a staged
  sibling folder, exactly as the lens loads it, and swapped in with one atomic exchange; the
  guide it replaces is kept under ``.backups/<name>/`` (:func:`restore_guide` brings it back);
- leftovers of a killed save (``.part`` files, staged folders, unreferenced uploads) are
  removed by the next save or load.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import GuideError, ImageError, UnsafeNameError, UserError
from ..imaging import DEFAULT_LIMITS, SAME_EXTENSION, ImageLimits, image_size, verify_image
from ..media import identify
from ..storage import atomic_copy, atomic_write_bytes, check_filename, check_id, exchange_paths
from .lock import guide_lock, guide_lock_if_free
from .model import Guide, schema_problems
from .rules import MIN_ARTWORK_SIDE, check_rules, media_paths

GUIDE_FILE = "guide.json"
#: Where replaced guides are kept, beside the guides: ``<guides>/.backups/<name>/<time>/``.
BACKUPS = ".backups"
#: Backups kept per guide (the oldest are deleted).
KEEP_BACKUPS = 5
#: Folders uploads go to; files there that the guide does not use are leftovers (media/ is left
#: alone: curators may copy files there before naming them in a hand-written guide.json).
UPLOADS = ("images",)


@dataclass(frozen=True)
class GuideRef:
    """A loaded guide, the folder its media paths are relative to, and the revision of its
    ``guide.json`` it was read from (edits use it to notice changes made meanwhile)."""

    guide: Guide
    root: Path
    revision: str = ""

    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.guide, self.root)


def looks_like_path(value: str) -> bool:
    """Whether ``--guide X`` names a folder rather than a guide: it holds a ``/`` (``./x``, ``/x``,
    ``x/guide.json``), is ``.`` or ``..``, or is a ``guide.json``."""
    return "/" in value or value in (".", "..", GUIDE_FILE)


def guide_dir(name_or_path: str | Path, settings: Settings) -> Path:
    """Resolve ``--guide X``: a name is the guide ``data/guides/<name>/``; a :class:`Path`, or a string
    that looks like a path (:func:`looks_like_path`), is the folder it names (or holds, for a
    ``guide.json``). A folder of the current directory that shares a guide's name is never taken
    for it: ``mydocs`` is always ``data/guides/mydocs``, ``./mydocs`` the folder here."""
    if isinstance(name_or_path, Path) or looks_like_path(str(name_or_path)):
        p = Path(name_or_path)
        return p.parent if p.name == GUIDE_FILE else p
    try:
        return settings.guides / check_id(name_or_path, "guide name")
    except UnsafeNameError as exc:
        raise UnsafeNameError(f"{exc}; to use a folder, give its path (./NAME or /full/path)") from None


def list_guides(settings: Settings) -> list[str]:
    """Names of the guides under ``data/guides/``."""
    if not settings.guides.is_dir():
        return []
    return sorted(
        p.name for p in settings.guides.iterdir() if not p.name.startswith(".") and (p / GUIDE_FILE).is_file()
    )


Locator = Callable[[str], Path]
#: The kind of file each field of a guide holds (:func:`smartlens.media.identify`'s kinds).
FILE_KINDS = {
    "image": "picture",
    "original": "picture",
    "icon": "picture",
    "audio": "audio",
    "video": "video",
    "captions": "captions",
}


def check_file(where: str, rel: str, path: Path, limits: ImageLimits = DEFAULT_LIMITS) -> str | None:
    """The problem with a file entering a guide at ``rel`` (as the field ``where`` names it), or
    None: it must be what its field holds, found by reading it, and named for what it is."""
    field = where.rsplit(".", 1)[-1]
    try:
        if field == "image":
            verify_image(path, limits, MIN_ARTWORK_SIDE)  # decoded whole before the lens reads it
        elif field == "icon":
            verify_image(path, limits)
        ext = identify(FILE_KINDS[field], path, rel)
    except UserError as exc:
        return f"{where}: {exc}"
    named = Path(rel).suffix.lower().lstrip(".")
    if SAME_EXTENSION.get(named, named) != ext:
        return f"{where}: {rel} is a .{ext} file under another name; name it .{ext}"
    return None


def check_files(
    guide: Guide, locate: Locator, limits: ImageLimits = DEFAULT_LIMITS, deep: bool = False
) -> list[str]:
    """Problems with the files a guide refers to: missing, unreadable, or of the wrong size.

    ``locate`` maps a guide-relative path to the file that will be stored there. With ``deep``
    every file is read for what it is (:func:`check_file`: pictures decoded whole, audio and video
    probed, captions read) before a guide replaces another; otherwise only picture headers are
    read and other files must exist (every load).
    """
    problems: list[str] = []
    for art in guide.artworks:
        where = f"artworks[{art.id}].image"
        try:
            w, h = image_size(locate(art.image), limits)
        except ImageError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if (w, h) != (art.width, art.height):
            problems.append(f"{where}: the file is {w}x{h} but the guide says {art.width}x{art.height}")
    bad = {p.split(":", 1)[0] for p in problems}
    for where, rel in media_paths(guide):
        if where in bad:
            continue
        try:
            path = locate(rel)
            present = path.is_file()
        except OSError as exc:
            problems.append(f"{where}: cannot read {rel[:120]!r} ({exc.strerror or exc})")
            continue
        if not present:
            if not where.endswith(".image"):
                problems.append(f"{where}: missing file {rel!r}")
            continue
        problem = check_file(where, rel, path, limits) if deep else None
        if problem:
            problems.append(problem)
    return problems


def validate(
    guide: Guide,
    root: Path | Locator,
    source: str | None = None,
    limits: ImageLimits = DEFAULT_LIMITS,
    deep: bool = False,
) -> Guide:
    """Raise :class:`GuideError` naming every bad field; return the guide when all is well.

    First the schema (:func:`.model.schema_problems`: what ``guide.json`` will hold), then the
    rules (:func:`.rules.check_rules`), then the files. ``root`` is the guide folder, or a function
    locating each relative path (for imports).
    """
    problems = schema_problems(guide) or check_rules(guide)
    if not problems:  # file checks assume safe relative paths
        problems = check_files(guide, root if callable(root) else Path(root).joinpath, limits, deep)
    if problems:
        raise GuideError(problems, source or f"guide {guide.name!r}")
    return guide


def revision_of(data: bytes) -> str:
    """The revision of a ``guide.json``: a hash of its bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def parse_json(data: bytes, source: str) -> object:
    """JSON from bytes, every failure a :class:`GuideError` naming ``source``."""
    try:
        return json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuideError([f"not valid JSON ({exc})"], source) from None
    except RecursionError:
        raise GuideError(["not valid JSON (nested too deeply)"], source) from None


def _read(root: Path) -> bytes | None:
    path = root / GUIDE_FILE
    for _ in range(100):
        try:
            return path.read_bytes()
        except FileNotFoundError:
            # a swap on a system without an atomic exchange leaves a short gap: wait it out
            if not _leftovers(root):
                return None
            time.sleep(0.02)
        except IsADirectoryError:
            return None
    return None


def _identity(root: Path) -> tuple[int, int] | None:
    """Which folder ``root`` names now (device, inode)."""
    try:
        st = root.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _leftovers(root: Path) -> list[Path]:
    """Staged and swapped-out folders of ``root`` that a save in progress (or a killed one) made."""
    pattern = re.compile(rf"^\.{re.escape(root.name)}\.[A-Za-z0-9_]+\.(stage|old)$")
    try:
        return [p for p in root.parent.iterdir() if pattern.match(p.name)]
    except OSError:
        return []


def read_guide(
    root: Path, limits: ImageLimits = DEFAULT_LIMITS, check: bool = True, deep: bool = False
) -> GuideRef:
    """Load the guide folder ``root`` (no lock needed: saves are atomic)."""
    root = Path(root)
    last: GuideError | None = None
    for _ in range(20):
        folder = _identity(root)
        data = _read(root)
        if data is None:
            raise FileNotFoundError(f"no guide at {root} (no {GUIDE_FILE})")
        source = str(root / GUIDE_FILE)
        guide = Guide.from_dict(parse_json(data, source), source)
        try:
            if check:
                validate(guide, root, source, limits, deep)
            return GuideRef(guide, root, revision_of(data))
        except GuideError as exc:
            # an edit committed between reading guide.json and checking its files (and has
            # since removed a file the old one used): read the new one; else the error stands.
            # Every save swaps in a new folder, so the folder's identity tells a replacement even
            # when the new guide.json has the same bytes (A, then B, then A again)
            if _read(root) == data and _identity(root) == folder:
                raise
            last = exc
    assert last is not None
    raise last


def load_guide(name_or_path: str | Path, settings: Settings, check: bool = True) -> GuideRef:
    """Load and validate a guide (:func:`guide_dir` says where), tidying a killed save's leftovers
    when nobody is saving."""
    root = guide_dir(name_or_path, settings)
    if not (root / GUIDE_FILE).is_file() and not _leftovers(root):
        if isinstance(name_or_path, Path) or looks_like_path(str(name_or_path)):
            raise FileNotFoundError(f"no guide at {root} (no {GUIDE_FILE})")
        known = ", ".join(list_guides(settings)) or "none yet"
        hint = ""
        if Path(name_or_path).is_dir():  # the user may have meant the folder here
            hint = f"; to use the folder {name_or_path!r} here, write ./{name_or_path}"
        raise FileNotFoundError(f"no guide '{name_or_path}' in {settings.guides} (guides: {known}){hint}")
    tidy(root)
    return read_guide(root, settings.image_limits, check)


# --- leftovers -------------------------------------------------------------------------------
def _uploads(root: Path) -> list[Path]:
    """Files in the folders uploads go to, hidden ones aside."""
    found: list[Path] = []
    for folder in UPLOADS:
        if (root / folder).is_dir():
            found += [p for p in (root / folder).rglob("*") if p.is_file() and not p.name.startswith(".")]
    return found


def _untidy(root: Path) -> bool:
    """Whether a killed save may have left something behind, read without the lock: a staged
    folder, a ``.part`` file, or an upload ``guide.json`` does not name (a quick look at its bytes;
    :func:`_tidy_locked` decides on the parsed guide). Loads then take the lock only when needed."""
    if _leftovers(root) or next(root.rglob(".*.part"), None) is not None:
        return True
    data = _read(root) or b""
    return any(f'"{p.relative_to(root).as_posix()}"'.encode() not in data for p in _uploads(root))


def _tidy_locked(root: Path) -> None:
    for p in _leftovers(root):
        shutil.rmtree(p, ignore_errors=True)
    if not root.is_dir():
        return
    for p in root.rglob(".*.part"):
        p.unlink(missing_ok=True)
    data = _read(root)
    if data is None:
        return
    try:
        guide = Guide.from_dict(json.loads(data), GUIDE_FILE)
    except (GuideError, ValueError, RecursionError):
        return  # a broken guide.json: leave every file for a person to look at
    used = {rel for _, rel in media_paths(guide)}
    for p in _uploads(root):
        if p.relative_to(root).as_posix() not in used:
            p.unlink(missing_ok=True)  # an upload whose save was killed before its commit


def tidy(root: Path) -> None:
    """Remove what killed saves left behind, if nobody is saving now (readers take the lock only
    when there is something to remove, so loading never holds up a save)."""
    root = Path(root).resolve()
    try:
        if root.is_dir() and not _untidy(root):
            return
        with guide_lock_if_free(root) as free:
            if free:
                _tidy_locked(root)
    except OSError:
        pass  # tidying is a courtesy: never the reason a guide does not load


# --- saving ----------------------------------------------------------------------------------
def _guide_bytes(guide: Guide) -> bytes:
    return (json.dumps(guide.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def update_locked(
    root: Path,
    guide: Guide,
    previous: Guide | None,
    files: dict[str, Path] | None = None,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Save an edit of the guide in ``root``; the caller holds its lock (:func:`.lock.guide_lock`).

    New media first, then ``guide.json`` (the commit), then the files ``previous`` used that
    ``guide`` no longer does.
    """
    root = Path(root)
    files = dict(files or {})

    def locate(rel: str) -> Path:
        return Path(files[rel]) if rel in files else root / rel

    validate(guide, locate, limits=limits)
    fields = {rel: where for where, rel in media_paths(guide)}
    problems = [
        p for rel, src in files.items() if rel in fields and (p := check_file(fields[rel], rel, src, limits))
    ]
    if problems:  # every new file is read for what it is before it can reach the lens
        raise GuideError(problems, f"guide {guide.name!r}")
    for rel, src in files.items():
        atomic_copy(src, root / rel)
    data = _guide_bytes(guide)
    atomic_write_bytes(root / GUIDE_FILE, data)
    if previous is not None:
        used = {rel for _, rel in media_paths(guide)}
        for _, rel in media_paths(previous):
            if rel not in used:
                (root / rel).unlink(missing_ok=True)
    return GuideRef(guide, root, revision_of(data))


def backups_dir(root: Path) -> Path:
    """Where the guides replaced in ``root`` are kept."""
    root = Path(root)
    return root.parent / BACKUPS / root.name


def list_backups(root: Path) -> list[str]:
    """Backup names of the guide folder ``root``, oldest first."""
    folder = backups_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and (p / GUIDE_FILE).is_file())


def _keep_backup(root: Path, old: Path) -> str:
    folder = backups_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name, n = stamp, 1
    while (folder / name).exists():
        n += 1
        name = f"{stamp}-{n}"
    os.replace(old, folder / name)
    for extra in list_backups(root)[:-KEEP_BACKUPS]:
        shutil.rmtree(folder / extra, ignore_errors=True)
    return name


def _swap_in_locked(root: Path, stage: Path, backup: bool) -> str | None:
    """Put the complete, checked folder ``stage`` in ``root``'s place; returns the backup's name."""
    if not root.exists():
        os.replace(stage, root)
        return None
    if not exchange_paths(stage, root):
        # no atomic exchange here: two renames, readers wait out the gap (see _read)
        old = root.parent / f".{root.name}.{os.getpid()}.old"
        os.replace(root, old)
        os.replace(stage, root)
        stage = old
    if backup:
        return _keep_backup(root, stage)
    shutil.rmtree(stage, ignore_errors=True)
    return None


def _stage(root: Path) -> Path:
    root.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".stage", dir=root.parent))


def save_guide(
    guide: Guide,
    dest: Path,
    files: dict[str, Path] | None = None,
    replace: bool = False,
    limits: ImageLimits = DEFAULT_LIMITS,
    backup: bool = False,
) -> GuideRef:
    """Validate, then write ``guide`` to the folder ``dest``, holding its lock.

    ``files`` maps guide-relative media paths to the files to copy there (an import or an
    upload). Without ``files`` an existing guide is edited in place (its media are expected in
    ``dest`` already). With them a new guide is built in a staged folder, checked as the lens
    loads it (every picture decoded), and swapped in whole; an existing guide is replaced only
    with ``replace``, and kept as a backup with ``backup``. Nothing is written when the new
    guide is invalid.
    """
    dest = Path(dest).resolve()  # a symlinked guide is saved (and swapped) where it really is
    with guide_lock(dest):
        _tidy_locked(dest)
        data = _read(dest)
        if not files and data is not None:
            previous = None
            try:
                previous = Guide.from_dict(parse_json(data, GUIDE_FILE))
            except GuideError:
                pass  # a broken guide.json being repaired: delete nothing
            return update_locked(dest, guide, previous, None, limits)
        if data is not None and not replace:
            raise FileExistsError(f"guide folder {dest} already exists (use --force to replace it)")
        return _replace_locked(dest, guide, dict(files or {}), limits, backup)[0]


def _replace_locked(
    dest: Path, guide: Guide, files: dict[str, Path], limits: ImageLimits, backup: bool
) -> tuple[GuideRef, str | None]:
    def locate(rel: str) -> Path:
        return Path(files[rel]) if rel in files else dest / rel

    validate(guide, locate, limits=limits, deep=True)
    stage = _stage(dest)
    try:
        for _, rel in media_paths(guide):
            if not (stage / rel).exists():
                atomic_copy(locate(rel), stage / rel)
        atomic_write_bytes(stage / GUIDE_FILE, _guide_bytes(guide))
        # the copy, read back exactly as the lens loads it (the pictures, byte for byte the
        # sources, were decoded whole above)
        staged = read_guide(stage, limits, check=True)
        name = _swap_in_locked(dest, stage, backup)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return GuideRef(staged.guide, dest, staged.revision), name


def restore_guide(root: Path, backup: str | None = None, limits: ImageLimits = DEFAULT_LIMITS) -> GuideRef:
    """Bring back a backup of the guide in ``root`` (the newest by default); the guide it
    replaces becomes a backup in turn, so a restore can be undone the same way."""
    root = Path(root).resolve()
    with guide_lock(root):
        names = list_backups(root)
        if not names:
            raise FileNotFoundError(f"no backups of guide '{root.name}' (in {backups_dir(root)})")
        name = names[-1] if backup is None else check_filename(backup, "backup name")
        if name not in names:
            raise FileNotFoundError(f"no backup {name!r} of guide '{root.name}'; backups: {', '.join(names)}")
        src = backups_dir(root) / name
        stage = _stage(root)
        try:
            shutil.rmtree(stage)
            shutil.copytree(src, stage)
            staged = read_guide(stage, limits, check=True, deep=True)
            _swap_in_locked(root, stage, backup=root.exists())
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return GuideRef(staged.guide, root, staged.revision)


def fingerprint(guide: Guide, root: Path, visual_only: bool = False) -> str:
    """A short hash of the guide's content and every image it uses.

    Indexes and models record it, so they know when the guide changed under them. With
    ``visual_only`` only what recognition sees counts (images, ids, boxes), so editing a
    text does not invalidate an index.
    """
    content: object
    if visual_only:
        content = [[a.id, a.image, [[d.id, list(d.box)] for d in a.details]] for a in guide.artworks]
    else:
        content = guide.to_dict()
    h = hashlib.sha256(json.dumps(content, sort_keys=True).encode())
    for art in guide.artworks:
        h.update(hashlib.sha256((root / art.image).read_bytes()).digest())
    return h.hexdigest()[:16]
