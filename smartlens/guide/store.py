"""Guide folders on disk: find, load, check, save (atomically) and fingerprint them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..errors import GuideError, ImageError
from ..imaging import DEFAULT_LIMITS, ImageLimits, image_size
from ..storage import atomic_copy, atomic_write_json, check_id, staged_dir
from .model import Guide
from .rules import check_rules, media_paths

GUIDE_FILE = "guide.json"


@dataclass(frozen=True)
class GuideRef:
    """A loaded guide together with the folder its media paths are relative to."""

    guide: Guide
    root: Path

    def path(self, relative: str) -> Path:
        return self.root / relative

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.guide, self.root)


def guide_dir(name_or_path: str | Path, settings: Settings) -> Path:
    """Resolve ``--guide X``: a guide name under ``data/guides/`` or a folder / guide.json path."""
    p = Path(name_or_path)
    if p.name == GUIDE_FILE:
        return p.parent
    if p.is_dir() or len(p.parts) > 1 or str(name_or_path).startswith("."):
        return p
    return settings.guides / check_id(str(name_or_path), "guide name")


def list_guides(settings: Settings) -> list[str]:
    """Names of the guides under ``data/guides/``."""
    if not settings.guides.is_dir():
        return []
    return sorted(p.name for p in settings.guides.iterdir() if (p / GUIDE_FILE).is_file())


Locator = Callable[[str], Path]


def check_files(guide: Guide, locate: Locator, limits: ImageLimits = DEFAULT_LIMITS) -> list[str]:
    """Problems with the files a guide refers to: missing, unreadable, or of the wrong size.

    ``locate`` maps a guide-relative path to the file that will be stored there.
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
    for where, rel in media_paths(guide):
        if where.endswith(".image"):
            continue
        if not locate(rel).is_file():
            problems.append(f"{where}: missing file {rel!r}")
    return problems


def validate(
    guide: Guide, root: Path | Locator, source: str | None = None, limits: ImageLimits = DEFAULT_LIMITS
) -> Guide:
    """Raise :class:`GuideError` naming every bad field; return the guide when all is well.

    ``root`` is the guide folder, or a function locating each relative path (for imports).
    """
    problems = check_rules(guide)
    if not problems:  # file checks assume safe relative paths
        problems = check_files(guide, root if callable(root) else Path(root).joinpath, limits)
    if problems:
        raise GuideError(problems, source or f"guide {guide.name!r}")
    return guide


def load_guide(name_or_path: str | Path, settings: Settings, check: bool = True) -> GuideRef:
    """Load and validate a guide folder."""
    root = guide_dir(name_or_path, settings)
    path = root / GUIDE_FILE
    if not path.is_file():
        known = ", ".join(list_guides(settings)) or "none yet"
        raise FileNotFoundError(f"no guide at {root} (no {GUIDE_FILE}); guides here: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuideError([f"{GUIDE_FILE}: not valid JSON ({exc})"], str(path)) from None
    guide = Guide.from_dict(data, str(path))
    if check:
        validate(guide, root, str(path), settings.image_limits)
    return GuideRef(guide, root)


def save_guide(
    guide: Guide,
    dest: Path,
    files: dict[str, Path] | None = None,
    replace: bool = False,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Validate, then write ``guide`` to the folder ``dest``.

    ``files`` maps guide-relative media paths to the files to copy there (an import or an
    upload); the rest are expected in ``dest`` already. A new or replaced guide is built in
    a staged folder that takes ``dest``'s place only once complete; an edit in place only
    rewrites ``guide.json`` atomically. Nothing is written when the guide is invalid.
    """
    dest = Path(dest)
    files = dict(files or {})

    def locate(rel: str) -> Path:
        return Path(files[rel]) if rel in files else dest / rel

    validate(guide, locate, limits=limits)
    if not files and (dest / GUIDE_FILE).is_file():
        atomic_write_json(dest / GUIDE_FILE, guide.to_dict())
        return GuideRef(guide, dest)
    if (dest / GUIDE_FILE).is_file() and not replace:
        raise FileExistsError(f"guide folder {dest} already exists (use --force to replace it)")
    with staged_dir(dest, replace=True) as stage:
        for _, rel in media_paths(guide):
            if not (stage / rel).exists():
                atomic_copy(locate(rel), stage / rel)
        atomic_write_json(stage / GUIDE_FILE, guide.to_dict())
    return GuideRef(guide, dest)


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
