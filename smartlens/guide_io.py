"""Guides from and to other formats.

- the paintings format (``artworks.json``: ids, ``box_xywh`` in pixels, texts per language);
- COCO detection JSON, the format annotation tools export (``bbox`` = [x, y, w, h]).

Importers return an :class:`Import`: the guide plus the files to copy into its folder, for
:func:`smartlens.guide_store.save_guide`. COCO exports carry SmartLens' texts in extra
``smartlens`` keys that other tools ignore, so a guide survives the round trip whole.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .guide import Artwork, Detail, Guide, GuideError, Text
from .guide_store import GuideRef
from .storage import atomic_copy, atomic_write_json, slugify

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass
class Import:
    """An imported guide and its files: guide-relative path -> source file."""

    guide: Guide
    files: dict[str, Path] = field(default_factory=dict)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GuideError([f"not valid JSON ({exc})"], str(path)) from None


def _as_text(value: Any, language: str) -> Text:
    """Texts may be given per language ({"en": ..}) or once (a plain string)."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        return {language: value}
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    return {language: str(value)}


def _languages(texts: list[Text], preferred: str = "en") -> tuple[list[str], str]:
    langs: list[str] = []
    for t in texts:
        langs += [k for k in t if k not in langs]
    if not langs:
        langs = [preferred]
    default = preferred if preferred in langs else langs[0]
    return [default] + [lang for lang in langs if lang != default], default


def _inside(folder: Path, name: str, where: str) -> Path:
    """``folder/name``, refusing names that climb out of ``folder``."""
    path = (folder / name).resolve()
    if not str(path).startswith(str(folder.resolve()) + "/"):
        raise GuideError([f"{where}: {name!r} points outside {folder}"], "import")
    return path


def _image_dest(art_id: str, src: Path) -> str:
    suffix = src.suffix.lower()
    return f"images/{art_id}{'.jpg' if suffix == '.jpeg' else suffix}"


def import_paintings(folder: Path, name: str, default_language: str = "en") -> Import:
    """Import a folder holding ``artworks.json`` (the paintings format) and its images."""
    folder = Path(folder)
    path = folder / "artworks.json" if folder.is_dir() else folder
    folder = path.parent
    data = _read_json(path)
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
        src = _inside(folder, ra["file"], f"{where}.file")
        art = Artwork(
            id=art_id, image=_image_dest(art_id, src),
            width=ra.get("width", 0), height=ra.get("height", 0),
            title=_as_text(ra.get("title"), default_language),
            author=_as_text(ra.get("author"), default_language),
            year=_as_text(ra.get("year"), default_language),
            description=_as_text(ra.get("description"), default_language),
        )
        for j, rd in enumerate(ra.get("details") or []):
            box = rd.get("box_xywh", rd.get("box")) if isinstance(rd, dict) else None
            if not isinstance(box, list) or len(box) != 4:
                problems.append(f"{where}.details[{j}].box_xywh: expected [x, y, w, h], got {box!r}")
                continue
            art.details.append(Detail(
                id=str(rd.get("id") or f"detail-{j + 1}"), box=tuple(int(round(v)) for v in box),
                name=_as_text(rd.get("name"), default_language),
                description=_as_text(rd.get("description"), default_language),
            ))
            texts += [art.details[-1].name, art.details[-1].description]
        texts += [art.title, art.description, art.author, art.year]
        result.guide.artworks.append(art)
        result.files[art.image] = src
    if problems:
        raise GuideError(problems, str(path))
    result.guide.languages, result.guide.default_language = _languages(texts, default_language)
    _fill_sizes(result)
    return result


def _fill_sizes(imp: Import) -> None:
    """Take sizes missing from the source from the image files themselves."""
    from .imaging import ImageError, image_size

    for art in imp.guide.artworks:
        if not art.width or not art.height:
            try:
                art.width, art.height = image_size(imp.files[art.image])
            except ImageError:
                pass  # validation reports the unreadable image by its field


def import_coco(coco_path: Path, images_dir: Path, name: str, default_language: str = "en") -> Import:
    """Import COCO detection JSON: each image an artwork, each box a detail."""
    coco_path, images_dir = Path(coco_path), Path(images_dir)
    data = _read_json(coco_path)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise GuideError(["top level: expected a COCO object"], str(coco_path))
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            problems.append(f"{key}: expected a list")
    if problems:
        raise GuideError(problems, str(coco_path))
    meta = (data.get("info") or {}).get("smartlens") or {}
    result = Import(Guide(
        name=name, languages=list(meta.get("languages") or []),
        default_language=meta.get("default_language") or default_language,
        title=_as_text(meta.get("title"), default_language),
    ))
    categories: dict[Any, dict] = {}
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or "id" not in c or not isinstance(c.get("name"), str):
            problems.append(f"categories[{i}]: expected an object with 'id' and 'name'")
            continue
        categories[c["id"]] = c
    by_image: dict[Any, Artwork] = {}
    lang = result.guide.default_language
    for i, im in enumerate(data["images"]):
        if not isinstance(im, dict) or "id" not in im or not isinstance(im.get("file_name"), str):
            problems.append(f"images[{i}]: expected an object with 'id' and 'file_name'")
            continue
        extra = im.get("smartlens") or {}
        src = _inside(images_dir, im["file_name"], f"images[{i}].file_name")
        art_id = str(extra.get("id") or slugify(Path(im["file_name"]).stem, f"artwork-{i + 1}"))
        art = Artwork(
            id=art_id, image=_image_dest(art_id, src),
            width=im.get("width", 0), height=im.get("height", 0),
            title=_as_text(extra.get("title"), lang) or {lang: Path(im["file_name"]).stem.replace("-", " ").replace("_", " ").title()},
            author=_as_text(extra.get("author"), lang), year=_as_text(extra.get("year"), lang),
            description=_as_text(extra.get("description"), lang),
            audio=_as_text(extra.get("audio"), lang), video=_as_text(extra.get("video"), lang),
        )
        by_image[im["id"]] = art
        result.guide.artworks.append(art)
        result.files[art.image] = src
    for i, ann in enumerate(data["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            problems.append(f"{where}: expected an object")
            continue
        art = by_image.get(ann.get("image_id"))
        cat = categories.get(ann.get("category_id"))
        box = ann.get("bbox")
        if art is None:
            problems.append(f"{where}.image_id: no image with id {ann.get('image_id')!r}")
            continue
        if cat is None:
            problems.append(f"{where}.category_id: no category with id {ann.get('category_id')!r}")
            continue
        if not isinstance(box, list) or len(box) != 4 or not all(isinstance(v, (int, float)) for v in box):
            problems.append(f"{where}.bbox: expected [x, y, width, height], got {box!r}")
            continue
        extra = ann.get("smartlens") or {}
        cat_name = cat["name"].split("/", 1)[-1]
        detail_id = str(extra.get("id") or slugify(cat_name, "detail"))
        taken = {d.id for d in art.details}
        base, n = detail_id, 2
        while detail_id in taken:  # the same category twice on one artwork
            detail_id, n = f"{base}-{n}", n + 1
        art.details.append(Detail(
            id=detail_id, box=tuple(int(round(v)) for v in box),
            name=_as_text(extra.get("name"), lang) or {lang: cat_name.replace("-", " ").replace("_", " ").capitalize()},
            description=_as_text(extra.get("description"), lang),
            icon=extra.get("icon"),
            audio=_as_text(extra.get("audio"), lang), video=_as_text(extra.get("video"), lang),
        ))
        for rel in [extra.get("icon"), *art.details[-1].audio.values(), *art.details[-1].video.values()]:
            if rel:
                result.files[rel] = _inside(images_dir, rel, f"{where}.smartlens")
    for art in result.guide.artworks:
        for rel in [*art.audio.values(), *art.video.values()]:
            result.files[rel] = _inside(images_dir, rel, f"artworks[{art.id}]")
    if problems:
        raise GuideError(problems, str(coco_path))
    if not result.guide.languages:
        texts = [t for a in result.guide.artworks for t in (a.title, a.description)]
        result.guide.languages, result.guide.default_language = _languages(texts, default_language)
    _fill_sizes(result)
    return result


def to_coco(guide: Guide) -> dict[str, Any]:
    """The guide as COCO detection JSON (one category per detail, 'artwork/detail')."""
    images, annotations, categories = [], [], []
    for i, art in enumerate(guide.artworks, start=1):
        images.append({
            "id": i, "file_name": art.image, "width": art.width, "height": art.height,
            "smartlens": {"id": art.id, "title": art.title, "author": art.author, "year": art.year,
                          "description": art.description, "audio": art.audio, "video": art.video},
        })
        for d in art.details:
            categories.append({"id": len(categories) + 1, "name": f"{art.id}/{d.id}", "supercategory": art.id})
            x, y, w, h = d.box
            annotations.append({
                "id": len(annotations) + 1, "image_id": i, "category_id": len(categories),
                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                "smartlens": {"id": d.id, "name": d.name, "description": d.description,
                              "icon": d.icon, "audio": d.audio, "video": d.video},
            })
    return {
        "info": {"description": f"SmartLens guide {guide.name}", "smartlens": {
            "name": guide.name, "title": guide.title, "languages": guide.languages,
            "default_language": guide.default_language}},
        "images": images, "annotations": annotations, "categories": categories,
    }


def export_coco(ref: GuideRef, out: Path, copy_media: bool = True) -> Path:
    """Write ``out`` (COCO JSON); with ``copy_media`` the images and media go beside it."""
    from .guide import media_paths

    out = Path(out)
    if copy_media:
        for _, rel in media_paths(ref.guide):
            atomic_copy(ref.path(rel), out.parent / rel)
    return atomic_write_json(out, to_coco(ref.guide))
