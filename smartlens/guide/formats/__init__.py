"""Guides from and to other formats: one module per format, sharing the helpers here.

- :mod:`.paintings`: the paintings format (``artworks.json``: ids, ``box_xywh`` in pixels,
  texts per language);
- :mod:`.coco`: COCO detection JSON, the format annotation tools export and import.

Importers return an :class:`Import`: the guide plus the files to copy into its folder, for
:func:`smartlens.guide.store.save_guide`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import GuideError, ImageError
from ...geometry import int_box
from ...imaging import ImageLimits, image_size, picture_type
from ..model import Guide, Text, show
from ..store import parse_json


@dataclass
class Import:
    """An imported guide and its files: guide-relative path -> source file."""

    guide: Guide
    files: dict[str, Path] = field(default_factory=dict)


#: Longest file name part accepted in an imported guide (file systems stop at 255 bytes).
MAX_NAME = 120


def read_json(path: Path) -> Any:
    """The JSON in ``path``; every failure (missing, not JSON, nested too deeply) names the file."""
    try:
        present = path.is_file()
    except OSError as exc:
        raise GuideError([f"cannot be read ({exc.strerror or exc})"], str(path)[:200]) from None
    if not present:
        raise FileNotFoundError(f"{path}: no such file")
    return parse_json(path.read_bytes(), str(path))


def objects(value: Any, where: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) of each object in a JSON list (absent: none); every item that is not an
    object, or a value that is not a list, becomes a problem naming ``where``."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: expected a list, got {show(value)}")
        return []
    out = []
    for j, item in enumerate(value):
        if isinstance(item, dict):
            out.append((j, item))
        else:
            problems.append(f"{where}[{j}]: expected an object, got {show(item)}")
    return out


def is_number(value: object) -> bool:
    """A finite int or float (not a bool, not NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_box(value: object) -> bool:
    """Four finite numbers."""
    return isinstance(value, (list, tuple)) and len(value) == 4 and all(is_number(v) for v in value)


def number(value: Any, where: str, problems: list[str]) -> float:
    """A finite number (not a bool, not NaN/Infinity, not a string), or a problem naming ``where``."""
    if not is_number(value):
        problems.append(f"{where}: expected a finite number, got {show(value)}")
        return 0.0
    return float(value)


def box(value: Any, where: str, problems: list[str]) -> tuple[int, int, int, int] | None:
    """[x, y, width, height] as four finite numbers, rounded to pixels; None (and a problem) if not."""
    if not is_box(value):
        problems.append(f"{where}: expected [x, y, width, height] as 4 finite numbers, got {show(value)}")
        return None
    return int_box(value)


def size(raw: dict, key: str, where: str, problems: list[str]) -> int:
    """An optional image width or height: absent (0: read from the file) or a positive integer."""
    value = raw.get(key)
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        problems.append(f"{where}.{key}: expected a positive integer (pixels), got {show(value)}")
        return 0
    return value


def obj(value: Any, where: str, problems: list[str]) -> dict:
    """An optional JSON object (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object, got {show(value)}")
        return {}
    return value


def as_text(value: Any, language: str, where: str, problems: list[str]) -> Text:
    """Texts may be given per language ({"en": ..}) or once (a plain string); anything else (a
    number, a list, an object inside) is a problem naming ``where``, never turned into text."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        return {language: value}
    if isinstance(value, dict):
        bad = {k: v for k, v in value.items() if v is not None and not isinstance(v, str)}
        for k, v in bad.items():
            problems.append(f"{where}.{k}: expected a text, got {show(v)}")
        return {k: v for k, v in value.items() if isinstance(v, str)}
    problems.append(f"{where}: expected a text or an object of language -> text, got {show(value)}")
    return {}


def languages_of(texts: list[Text], preferred: str = "en") -> tuple[list[str], str]:
    langs: list[str] = []
    for t in texts:
        langs += [k for k in t if k not in langs]
    if not langs:
        langs = [preferred]
    default = preferred if preferred in langs else langs[0]
    return [default] + [lang for lang in langs if lang != default], default


def inside(folder: Path, name: str, where: str) -> Path:
    """``folder/name``, refusing names that climb out of ``folder`` or that no file system takes."""
    if not isinstance(name, str) or not name or "\x00" in name:
        raise GuideError([f"{where}: expected a file name, got {show(name)}"], str(folder))
    if any(len(part.encode()) > MAX_NAME for part in name.split("/")):
        raise GuideError(
            [f"{where}: file name too long ({len(name)} characters; at most {MAX_NAME})"], str(folder)
        )
    path = (folder / name).resolve()
    if not str(path).startswith(str(folder.resolve()) + "/"):
        raise GuideError([f"{where}: {show(name)} points outside {folder}"], str(folder))
    return path


def artwork_id(raw: Any, fallback: str, where: str, problems: list[str]) -> str | None:
    """The artwork id the source gives (a string), else ``fallback``; None, with a problem, when
    the source gives something that is not a string."""
    if raw is not None and not isinstance(raw, str):
        problems.append(f"{where}: expected a string, got {show(raw)}")
        return None
    return raw or fallback


def image_dest(art_id: str, src: Path) -> str:
    """Where an imported picture is stored: named for what its bytes are (a JPEG named ``a.txt``
    becomes ``images/<id>.jpg``). A file that is no picture keeps its name's extension here and
    is refused, with the reason, by the checks every import goes through."""
    try:
        return f"images/{art_id}.{picture_type(src, str(src))}"
    except (ImageError, OSError):
        suffix = src.suffix.lower()
        return f"images/{art_id}{'.jpg' if suffix == '.jpeg' else suffix}"


def fill_sizes(imp: Import, limits: ImageLimits, source: str) -> None:
    """Take sizes missing from the source from the image files themselves (upright: EXIF
    orientation applied, as recognition reads them); an unreadable image is reported by its
    artwork, not later as a box outside a 0x0 picture."""
    problems: list[str] = []
    for art in imp.guide.artworks:
        if not art.width or not art.height:
            try:
                art.width, art.height = image_size(imp.files[art.image], limits)
            except ImageError as exc:
                problems.append(f"artworks[{art.id}].image: {exc}")
    if problems:
        raise GuideError(problems, source)
