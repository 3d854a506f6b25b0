"""COCO detection JSON, the format annotation tools export (``bbox`` = [x, y, w, h]).

Exports carry SmartLens' texts in extra ``smartlens`` keys that other tools ignore, so a guide
survives the round trip whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import GuideError
from ...imaging import DEFAULT_LIMITS, ImageLimits
from ...storage import atomic_copy, atomic_write_json, slugify
from ..model import Artwork, Detail, Guide, show
from ..rules import media_paths, texts
from ..store import GuideRef
from . import (
    Import,
    artwork_id,
    as_text,
    box,
    fill_sizes,
    image_dest,
    inside,
    languages_of,
    obj,
    read_json,
    size,
)


def _key(value: Any) -> bool:
    """COCO ids are numbers or strings (anything else cannot be looked up)."""
    return isinstance(value, (int, str)) and not isinstance(value, bool)


def import_coco(
    coco_path: Path,
    images_dir: Path,
    name: str,
    default_language: str = "en",
    limits: ImageLimits = DEFAULT_LIMITS,
) -> Import:
    """Import COCO detection JSON: each image an artwork, each box a detail."""
    coco_path, images_dir = Path(coco_path), Path(images_dir)
    data = read_json(coco_path)
    problems: list[str] = []
    if not isinstance(data, dict):
        raise GuideError(["top level: expected a COCO object"], str(coco_path))
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            problems.append(f"{key}: expected a list")
    info = obj(data.get("info"), "info", problems)
    meta = obj(info.get("smartlens"), "info.smartlens", problems)
    if problems:
        raise GuideError(problems, str(coco_path))
    if not data["images"]:
        raise GuideError(["images: the list is empty (a guide needs at least one artwork)"], str(coco_path))
    languages = meta.get("languages") or []
    if not isinstance(languages, list) or not all(isinstance(x, str) for x in languages):
        problems.append(f"info.smartlens.languages: expected a list of language codes, got {show(languages)}")
        languages = []
    default = meta.get("default_language") or default_language
    if not isinstance(default, str):
        problems.append(f"info.smartlens.default_language: expected a language code, got {show(default)}")
        default = default_language
    result = Import(
        Guide(
            name=name,
            languages=list(languages),
            default_language=default,
            title=as_text(meta.get("title"), default_language, "info.smartlens.title", problems),
        )
    )
    categories: dict[Any, dict] = {}
    for i, c in enumerate(data["categories"]):
        if not isinstance(c, dict) or not _key(c.get("id")) or not isinstance(c.get("name"), str):
            problems.append(f"categories[{i}]: expected an object with 'id' and 'name'")
            continue
        categories[c["id"]] = c
    by_image: dict[Any, Artwork] = {}
    lang = result.guide.default_language
    for i, im in enumerate(data["images"]):
        where = f"images[{i}]"
        if not isinstance(im, dict) or not _key(im.get("id")) or not isinstance(im.get("file_name"), str):
            problems.append(f"{where}: expected an object with 'id' and 'file_name'")
            continue
        extra = obj(im.get("smartlens"), f"{where}.smartlens", problems)
        try:
            src = inside(images_dir, im["file_name"], f"{where}.file_name")
        except GuideError as exc:
            problems += exc.problems
            continue
        fallback = slugify(Path(im["file_name"]).stem, f"artwork-{i + 1}")
        art_id = artwork_id(extra.get("id"), fallback, f"{where}.smartlens.id", problems)
        if art_id is None:
            continue
        art = Artwork(
            id=art_id,
            image=image_dest(art_id, src),
            width=size(im, "width", where, problems),
            height=size(im, "height", where, problems),
        )
        for key, _ in texts(art):
            setattr(art, key, as_text(extra.get(key), lang, f"{where}.smartlens.{key}", problems))
        art.title = art.title or {
            lang: Path(im["file_name"]).stem.replace("-", " ").replace("_", " ").title()
        }
        by_image[im["id"]] = art
        result.guide.artworks.append(art)
        result.files[art.image] = src
    for i, ann in enumerate(data["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            problems.append(f"{where}: expected an object")
            continue
        image_id, category_id = ann.get("image_id"), ann.get("category_id")
        owner = by_image.get(image_id) if _key(image_id) else None
        cat = categories.get(category_id) if _key(category_id) else None
        if owner is None:
            problems.append(f"{where}.image_id: no image with id {show(image_id)}")
            continue
        if cat is None:
            problems.append(f"{where}.category_id: no category with id {show(category_id)}")
            continue
        xywh = box(ann.get("bbox"), f"{where}.bbox", problems)
        extra = obj(ann.get("smartlens"), f"{where}.smartlens", problems)
        raw_id = extra.get("id")
        icon = extra.get("icon")
        if raw_id is not None and not isinstance(raw_id, str):
            problems.append(f"{where}.smartlens.id: expected a string, got {show(raw_id)}")
            continue
        if icon is not None and not isinstance(icon, str):
            problems.append(f"{where}.smartlens.icon: expected a relative path, got {show(icon)}")
            continue
        if xywh is None:
            continue
        cat_name = cat["name"].split("/", 1)[-1]
        detail_id = raw_id or slugify(cat_name, "detail")
        taken = {d.id for d in owner.details}
        base, n = detail_id, 2
        while detail_id in taken:  # the same category twice on one artwork
            detail_id, n = f"{base}-{n}", n + 1
        det = Detail(id=detail_id, box=xywh, icon=icon)
        for key, _ in texts(det):
            setattr(det, key, as_text(extra.get(key), lang, f"{where}.smartlens.{key}", problems))
        det.name = det.name or {lang: cat_name.replace("-", " ").replace("_", " ").capitalize()}
        owner.details.append(det)
        for rel in [icon, *det.audio.values(), *det.video.values(), *det.captions.values()]:
            if rel:
                try:
                    result.files[rel] = inside(images_dir, rel, f"{where}.smartlens")
                except GuideError as exc:
                    problems += exc.problems
    for art in result.guide.artworks:
        for rel in [*art.audio.values(), *art.video.values(), *art.captions.values()]:
            try:
                result.files[rel] = inside(images_dir, rel, f"artworks[{art.id}]")
            except GuideError as exc:
                problems += exc.problems
    if problems:
        raise GuideError(problems, str(coco_path))
    if not result.guide.languages:
        found = [t for a in result.guide.artworks for t in (a.title, a.description)]
        result.guide.languages, result.guide.default_language = languages_of(found, default_language)
    fill_sizes(result, limits, str(coco_path))
    return result


def to_coco(guide: Guide) -> dict[str, Any]:
    """The guide as COCO detection JSON (one category per detail, 'artwork/detail')."""
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    categories: list[dict[str, Any]] = []
    for i, art in enumerate(guide.artworks, start=1):
        images.append(
            {
                "id": i,
                "file_name": art.image,
                "width": art.width,
                "height": art.height,
                "smartlens": {
                    "id": art.id,
                    "title": art.title,
                    "author": art.author,
                    "year": art.year,
                    "description": art.description,
                    "audio": art.audio,
                    "video": art.video,
                    **{k: v for k, v in (("captions", art.captions), ("transcript", art.transcript)) if v},
                },
            }
        )
        for d in art.details:
            categories.append(
                {"id": len(categories) + 1, "name": f"{art.id}/{d.id}", "supercategory": art.id}
            )
            x, y, w, h = d.box
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i,
                    "category_id": len(categories),
                    "bbox": [x, y, w, h],
                    "area": w * h,
                    "iscrowd": 0,
                    # the texts ride along in a key other tools ignore (the box is the bbox)
                    "smartlens": {k: v for k, v in d.to_dict().items() if k != "box"},
                }
            )
    return {
        "info": {
            "description": f"SmartLens guide {guide.name}",
            "smartlens": {
                "name": guide.name,
                "title": guide.title,
                "languages": guide.languages,
                "default_language": guide.default_language,
            },
        },
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def export_coco(ref: GuideRef, out: Path, copy_media: bool = True) -> Path:
    """Write ``out`` (COCO JSON); with ``copy_media`` the images and media go beside it."""
    out = Path(out)
    if copy_media:
        for _, rel in media_paths(ref.guide):
            atomic_copy(ref.path(rel), out.parent / rel)
    return atomic_write_json(out, to_coco(ref.guide))
