"""COCO detection JSON, the format annotation tools export (``bbox`` = [x, y, w, h]).

Exports carry SmartLens' texts in extra ``smartlens`` keys that other tools ignore, so a guide
survives the round trip whole.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...errors import GuideError
from ...geometry import int_box
from ...imaging import DEFAULT_LIMITS, ImageLimits
from ...storage import atomic_copy, atomic_write_json, slugify
from ..model import Artwork, Detail, Guide
from ..rules import media_paths
from ..store import GuideRef
from . import Import, as_text, fill_sizes, image_dest, inside, languages_of, read_json


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
    if problems:
        raise GuideError(problems, str(coco_path))
    meta = (data.get("info") or {}).get("smartlens") or {}
    result = Import(
        Guide(
            name=name,
            languages=list(meta.get("languages") or []),
            default_language=meta.get("default_language") or default_language,
            title=as_text(meta.get("title"), default_language),
        )
    )
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
        src = inside(images_dir, im["file_name"], f"images[{i}].file_name")
        art_id = str(extra.get("id") or slugify(Path(im["file_name"]).stem, f"artwork-{i + 1}"))
        art = Artwork(
            id=art_id,
            image=image_dest(art_id, src),
            width=im.get("width", 0),
            height=im.get("height", 0),
            title=as_text(extra.get("title"), lang)
            or {lang: Path(im["file_name"]).stem.replace("-", " ").replace("_", " ").title()},
            author=as_text(extra.get("author"), lang),
            year=as_text(extra.get("year"), lang),
            description=as_text(extra.get("description"), lang),
            audio=as_text(extra.get("audio"), lang),
            video=as_text(extra.get("video"), lang),
        )
        by_image[im["id"]] = art
        result.guide.artworks.append(art)
        result.files[art.image] = src
    for i, ann in enumerate(data["annotations"]):
        where = f"annotations[{i}]"
        if not isinstance(ann, dict):
            problems.append(f"{where}: expected an object")
            continue
        owner = by_image.get(ann.get("image_id"))
        cat = categories.get(ann.get("category_id"))
        box = ann.get("bbox")
        if owner is None:
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
        taken = {d.id for d in owner.details}
        base, n = detail_id, 2
        while detail_id in taken:  # the same category twice on one artwork
            detail_id, n = f"{base}-{n}", n + 1
        owner.details.append(
            Detail(
                id=detail_id,
                box=int_box(box),
                name=as_text(extra.get("name"), lang)
                or {lang: cat_name.replace("-", " ").replace("_", " ").capitalize()},
                description=as_text(extra.get("description"), lang),
                icon=extra.get("icon"),
                audio=as_text(extra.get("audio"), lang),
                video=as_text(extra.get("video"), lang),
            )
        )
        for rel in [extra.get("icon"), *owner.details[-1].audio.values(), *owner.details[-1].video.values()]:
            if rel:
                result.files[rel] = inside(images_dir, rel, f"{where}.smartlens")
    for art in result.guide.artworks:
        for rel in [*art.audio.values(), *art.video.values()]:
            result.files[rel] = inside(images_dir, rel, f"artworks[{art.id}]")
    if problems:
        raise GuideError(problems, str(coco_path))
    if not result.guide.languages:
        texts = [t for a in result.guide.artworks for t in (a.title, a.description)]
        result.guide.languages, result.guide.default_language = languages_of(texts, default_language)
    fill_sizes(result, limits)
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
                    "smartlens": {
                        "id": d.id,
                        "name": d.name,
                        "description": d.description,
                        "icon": d.icon,
                        "audio": d.audio,
                        "video": d.video,
                    },
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
