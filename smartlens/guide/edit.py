"""Edits curators make in the studio, each validated and saved atomically (nothing half-saved)."""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path

import numpy as np

from ..geometry import int_box
from ..imaging import DEFAULT_LIMITS, ImageLimits, decode_image, encode_jpeg, fit_within
from ..storage import check_id, slugify
from .model import Artwork, Detail, Guide
from .store import GuideRef, save_guide


def _save(ref: GuideRef, guide: Guide, files: dict[str, Path] | None = None) -> GuideRef:
    return save_guide(guide, ref.root, files=files, replace=True)


def add_artwork(
    ref: GuideRef,
    data: bytes,
    filename: str,
    title: str,
    language: str,
    max_side: int = 2400,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Add an uploaded picture as a new artwork (decoded and re-encoded: no foreign bytes kept)."""
    image, _ = fit_within(decode_image(data, filename, limits), max_side)
    guide = copy.deepcopy(ref.guide)
    base = slugify(title or Path(filename).stem, "artwork")
    art_id, n = base, 2
    while any(a.id == art_id for a in guide.artworks):
        art_id, n = f"{base}-{n}", n + 1
    rel = f"images/{art_id}.jpg"
    h, w = image.shape[:2]
    guide.artworks.append(Artwork(art_id, rel, w, h, title={language: title or art_id}))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.jpg"
        path.write_bytes(encode_jpeg(image, 92))
        return _save(ref, guide, {rel: path})


def remove_artwork(ref: GuideRef, artwork_id: str) -> GuideRef:
    """The guide without one artwork."""
    guide = copy.deepcopy(ref.guide)
    guide.artworks = [a for a in guide.artworks if a.id != artwork_id]
    return _save(ref, guide)


def set_texts(
    ref: GuideRef, artwork_id: str, language: str, title: str, author: str, year: str, description: str
) -> GuideRef:
    """Set an artwork's texts in one language (empty fields remove that translation)."""
    guide = copy.deepcopy(ref.guide)
    art = guide.artwork(artwork_id)
    for name, value in (("title", title), ("author", author), ("year", year), ("description", description)):
        text = getattr(art, name)
        if value.strip():
            text[language] = value.strip()
        else:
            text.pop(language, None)
    return _save(ref, guide)


def set_details(
    ref: GuideRef,
    artwork_id: str,
    details: list[tuple[str, tuple[int, int, int, int], str, str]],
    language: str,
) -> GuideRef:
    """Replace an artwork's details by (id, box, name, description) in ``language``; texts in
    other languages are kept for details that keep their id."""
    guide = copy.deepcopy(ref.guide)
    art = guide.artwork(artwork_id)
    old = {d.id: d for d in art.details}
    new = []
    for det_id, box, name, description in details:
        det_id = check_id(det_id, "detail id")
        d = copy.deepcopy(old.get(det_id)) or Detail(det_id, box)
        d.box = int_box(box)
        if name:
            d.name[language] = name
        if description:
            d.description[language] = description
        new.append(d)
    art.details = new
    return _save(ref, guide)


def missing_translations(guide: Guide) -> list[str]:
    """'artwork / field: languages' for every text not yet translated into every language."""
    out = []
    for art in guide.artworks:
        for field in ("title", "description"):
            missing = [lang for lang in guide.languages if not getattr(art, field).get(lang)]
            if missing:
                out.append(f"{art.id} / {field}: {', '.join(missing)}")
        for d in art.details:
            missing = [lang for lang in guide.languages if not d.name.get(lang)]
            if missing:
                out.append(f"{art.id} / {d.id} name: {', '.join(missing)}")
    return out


def propose_boxes(recognizer, image: np.ndarray) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Pre-annotation: the details an existing recogniser finds in ``image``, with their boxes."""
    result = recognizer.recognize(image)
    return [(d.id, d.box) for d in result.details if d.box is not None]
