"""Pre-annotation: detail boxes proposed by a recogniser on a guide's artwork images, saved as
proposals (:mod:`smartlens.guide.proposals`) that curators accept or reject in the studio.

Two sources: a trained detection model of the guide, or the verified retrieval of another guide
that holds the same works (its details' boxes projected onto this guide's pictures).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .config import Settings
from .errors import UserError
from .geometry import Box, box_corners, float_box, iou
from .guide import GuideRef
from .guide.proposals import DUPLICATE_IOU, IMAGE_SUFFIXES, Proposal, add_proposals
from .imaging import fit_within, read_image
from .methods import load_recognizer
from .methods.detection.recognizer import DetectionRecognizer
from .vocabulary import Method


def _pictures(
    ref: GuideRef, images: Path | None, settings: Settings
) -> Iterator[tuple[str, np.ndarray, float]]:
    """(artwork id, picture, scale to the artwork image's pixels) for each picture to annotate."""
    if images is None:
        for art in ref.guide.artworks:
            yield art.id, read_image(ref.path(art.image), settings.image_limits), 1.0
        return
    if not Path(images).is_dir():
        raise UserError(f"--images {images}: not a folder")
    widths = {a.id: a.width for a in ref.guide.artworks}
    files = sorted(p for p in Path(images).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    used = [p for p in files if p.stem in widths]
    if not used:
        raise UserError(f"{images}: no picture named after an artwork of guide '{ref.guide.name}' (<id>.jpg)")
    for p in used:
        img = read_image(p, settings.image_limits)
        yield p.stem, img, widths[p.stem] / img.shape[1]


def _new(
    ref: GuideRef, artwork: str, found: list[tuple[str, str, float, Box]], source: str
) -> list[Proposal]:
    """Proposals from (label, found_as, score, box) on one artwork, without those that repeat an
    existing detail or an earlier (better) proposal."""
    art = ref.guide.artwork(artwork)
    taken = [box_corners(d.box) for d in art.details]
    out: list[Proposal] = []
    for label, found_as, score, box in sorted(found, key=lambda f: -f[2]):
        x, y, w, h = box
        x0, y0 = max(0.0, x), max(0.0, y)
        box = (x0, y0, min(float(art.width), x + w) - x0, min(float(art.height), y + h) - y0)
        if box[2] < 4 or box[3] < 4:
            continue
        c = box_corners(box)
        if any(iou(c, t)[0, 0] >= DUPLICATE_IOU for t in taken):
            continue
        taken.append(c)
        out.append(
            Proposal(
                uuid.uuid4().hex[:10],
                artwork,
                label,
                box,
                round(score, 4),
                source,
                found_as,
                True,
                time.time(),
            )
        )
    return out


def propose_from_detector(
    ref: GuideRef,
    settings: Settings,
    model: str | Path | None = None,
    images: Path | None = None,
    min_score: float | None = None,
) -> list[Proposal]:
    """Detail boxes a detection model finds on the artworks' images (each class's best box above
    its calibrated threshold, or ``min_score``), saved as proposals."""
    rec = DetectionRecognizer.load(ref, settings, model)
    source = f"detection:{rec.model_dir.name}"
    made: list[Proposal] = []
    for artwork, picture, scale in _pictures(ref, images, settings):
        found = [
            (name.split("/", 1)[1], name, score, float_box([v * scale for v in box]))
            for name, score, box in rec.boxes(picture, min_score)
            if "/" in name  # an artwork's own box is its whole image here
        ]
        made += _new(ref, artwork, found, source)
    return add_proposals(ref, made)


def propose_from_retrieval(
    ref: GuideRef, other: GuideRef, settings: Settings, images: Path | None = None
) -> list[Proposal]:
    """The details of ``other`` guide that its verified retrieval finds on ``ref``'s artwork images
    (the same work, photographed for another guide), their boxes projected onto them."""
    rec = load_recognizer(other, settings, Method.RETRIEVAL)
    source = f"retrieval:{other.guide.name}"
    made: list[Proposal] = []
    for artwork, picture, scale in _pictures(ref, images, settings):
        small, k = fit_within(picture, 1280)  # the size frames are recognised at, about
        result = rec.recognize(small)
        found = [
            (d.id, f"{result.artwork}/{d.id}", d.score, float_box([v * scale / k for v in d.box]))
            for d in result.details
            if d.box is not None
        ]
        made += _new(ref, artwork, found, source)
    return add_proposals(ref, made)
