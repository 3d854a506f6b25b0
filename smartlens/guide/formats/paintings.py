"""The paintings format: a folder with ``artworks.json`` (ids, ``box_xywh`` in pixels, texts
per language as objects or plain strings) and the images it names."""

from __future__ import annotations

from pathlib import Path

from ...errors import GuideError
from ...geometry import int_box
from ...imaging import DEFAULT_LIMITS, ImageLimits
from ...storage import slugify
from ..model import Artwork, Detail, Guide, Text
from . import Import, as_text, fill_sizes, image_dest, inside, languages_of, read_json


def import_paintings(
    folder: Path, name: str, default_language: str = "en", limits: ImageLimits = DEFAULT_LIMITS
) -> Import:
    """Import a folder holding ``artworks.json`` (the paintings format) and its images."""
    folder = Path(folder)
    path = folder / "artworks.json" if folder.is_dir() else folder
    folder = path.parent
    data = read_json(path)
    raw_arts = data.get("artworks") if isinstance(data, dict) else data
    if not isinstance(raw_arts, list):
        raise GuideError(["artworks: expected a list of artworks"], str(path))
    problems: list[str] = []
    result = Import(Guide(name=name, languages=[], default_language=default_language))
    texts: list[Text] = []
    for i, ra in enumerate(raw_arts):
        where = f"artworks[{i}]"
        if not isinstance(ra, dict) or not isinstance(ra.get("file"), str):
            problems.append(f"{where}: expected an object with 'file'")
            continue
        art_id = str(ra.get("id") or slugify(Path(ra["file"]).stem))
        src = inside(folder, ra["file"], f"{where}.file")
        art = Artwork(
            id=art_id,
            image=image_dest(art_id, src),
            width=ra.get("width", 0),
            height=ra.get("height", 0),
            title=as_text(ra.get("title"), default_language),
            author=as_text(ra.get("author"), default_language),
            year=as_text(ra.get("year"), default_language),
            description=as_text(ra.get("description"), default_language),
        )
        for j, rd in enumerate(ra.get("details") or []):
            box = rd.get("box_xywh", rd.get("box")) if isinstance(rd, dict) else None
            if not isinstance(box, list) or len(box) != 4:
                problems.append(f"{where}.details[{j}].box_xywh: expected [x, y, w, h], got {box!r}")
                continue
            art.details.append(
                Detail(
                    id=str(rd.get("id") or f"detail-{j + 1}"),
                    box=int_box(box),
                    name=as_text(rd.get("name"), default_language),
                    description=as_text(rd.get("description"), default_language),
                )
            )
            texts += [art.details[-1].name, art.details[-1].description]
        texts += [art.title, art.description, art.author, art.year]
        result.guide.artworks.append(art)
        result.files[art.image] = src
    if problems:
        raise GuideError(problems, str(path))
    result.guide.languages, result.guide.default_language = languages_of(texts, default_language)
    fill_sizes(result, limits)
    return result
