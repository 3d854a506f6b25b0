"""Guides from and to other formats: one module per format, sharing the helpers here.

- :mod:`.paintings`: the paintings format (``artworks.json``: ids, ``box_xywh`` in pixels,
  texts per language);
- :mod:`.coco`: COCO detection JSON, the format annotation tools export and import.

Importers return an :class:`Import`: the guide plus the files to copy into its folder, for
:func:`smartlens.guide.store.save_guide`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import GuideError, ImageError
from ...imaging import ImageLimits, image_size
from ..model import Guide, Text

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass
class Import:
    """An imported guide and its files: guide-relative path -> source file."""

    guide: Guide
    files: dict[str, Path] = field(default_factory=dict)


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuideError([f"not valid JSON ({exc})"], str(path)) from None


def as_text(value: Any, language: str) -> Text:
    """Texts may be given per language ({"en": ..}) or once (a plain string)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        return {language: value}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    return {language: str(value)}


def languages_of(texts: list[Text], preferred: str = "en") -> tuple[list[str], str]:
    langs: list[str] = []
    for t in texts:
        langs += [k for k in t if k not in langs]
    if not langs:
        langs = [preferred]
    default = preferred if preferred in langs else langs[0]
    return [default] + [lang for lang in langs if lang != default], default


def inside(folder: Path, name: str, where: str) -> Path:
    """``folder/name``, refusing names that climb out of ``folder``."""
    path = (folder / name).resolve()
    if not str(path).startswith(str(folder.resolve()) + "/"):
        raise GuideError([f"{where}: {name!r} points outside {folder}"], "import")
    return path


def image_dest(art_id: str, src: Path) -> str:
    suffix = src.suffix.lower()
    return f"images/{art_id}{'.jpg' if suffix == '.jpeg' else suffix}"


def fill_sizes(imp: Import, limits: ImageLimits) -> None:
    """Take sizes missing from the source from the image files themselves."""
    for art in imp.guide.artworks:
        if not art.width or not art.height:
            try:
                art.width, art.height = image_size(imp.files[art.image], limits)
            except ImageError:
                pass  # validation reports the unreadable image by its field
