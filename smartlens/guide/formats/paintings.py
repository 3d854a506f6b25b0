"""The paintings format: a folder with ``artworks.json`` (ids, ``box_xywh`` in pixels, texts
per language as objects or plain strings) and the images it names."""

from __future__ import annotations

from pathlib import Path

from ...errors import GuideError
from ...imaging import DEFAULT_LIMITS, ImageLimits
from ...storage import slugify
from ..model import Artwork, Detail, Guide, Text, show
from . import (
    Import,
    artwork_id,
    as_text,
    box,
    fill_sizes,
    image_dest,
    inside,
    languages_of,
    objects,
    read_json,
    size,
)


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
    if not raw_arts:
        raise GuideError(["artworks: the list is empty (a guide needs at least one artwork)"], str(path))
    problems: list[str] = []
    result = Import(Guide(name=name, languages=[], default_language=default_language))
    texts: list[Text] = []
    for i, ra in enumerate(raw_arts):
        where = f"artworks[{i}]"
        if not isinstance(ra, dict) or not isinstance(ra.get("file"), str):
            problems.append(f"{where}: expected an object with 'file' (a file name)")
            continue
        try:
            src = inside(folder, ra["file"], f"{where}.file")
        except GuideError as exc:
            problems += exc.problems
            continue
        art_id = artwork_id(ra.get("id"), slugify(Path(ra["file"]).stem), f"{where}.id", problems)
        if art_id is None:
            continue
        art = Artwork(
            id=art_id,
            image=image_dest(art_id, src),
            width=size(ra, "width", where, problems),
            height=size(ra, "height", where, problems),
            title=as_text(ra.get("title"), default_language, f"{where}.title", problems),
            author=as_text(ra.get("author"), default_language, f"{where}.author", problems),
            year=as_text(ra.get("year"), default_language, f"{where}.year", problems),
            description=as_text(ra.get("description"), default_language, f"{where}.description", problems),
        )
        for j, rd in objects(ra.get("details"), f"{where}.details", problems):
            dwhere = f"{where}.details[{j}]"
            xywh = box(rd.get("box_xywh", rd.get("box")), f"{dwhere}.box_xywh", problems)
            det_id = rd.get("id")
            if det_id is not None and not isinstance(det_id, str):
                problems.append(f"{dwhere}.id: expected a string, got {show(det_id)}")
                continue
            if xywh is None:
                continue
            art.details.append(
                Detail(
                    id=det_id or f"detail-{j + 1}",
                    box=xywh,
                    name=as_text(rd.get("name"), default_language, f"{dwhere}.name", problems),
                    description=as_text(
                        rd.get("description"), default_language, f"{dwhere}.description", problems
                    ),
                )
            )
            texts += [art.details[-1].name, art.details[-1].description]
        texts += [art.title, art.description, art.author, art.year]
        result.guide.artworks.append(art)
        result.files[art.image] = src
    if problems:
        raise GuideError(problems, str(path))
    result.guide.languages, result.guide.default_language = languages_of(texts, default_language)
    fill_sizes(result, limits, str(path))
    return result
