"""Check photos: a few real photos per artwork that a curator takes with a phone, used only to
validate and to report a training, never to train.

They live in the guide's ``checks/`` folder, one sub-folder per artwork id
(``data/guides/<guide>/checks/<artwork id>/*.jpg``), and optionally one per detail inside it for
close-ups of that detail (``checks/<artwork id>/<detail id>/*.jpg``). Photos of an artwork (or a
detail) are dealt in turn to the validation set (choices: best epoch, thresholds, the gate) and
the report set (the figures shown), the first one to validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..guide import GuideRef
from ..imaging import DEFAULT_LIMITS, ImageLimits, image_size
from .negatives import SUFFIXES

#: The folder of a guide where curators put their check photos.
CHECKS_DIR = "checks"
#: The two roles check photos are dealt to.
VALIDATION, REPORT = "validation", "report"


@dataclass(frozen=True)
class CheckPhoto:
    """One check photo and what it shows ('artwork' or 'artwork/detail')."""

    path: Path
    label: str


def checks_dir(ref: GuideRef) -> Path:
    """``<guide root>/checks/``: the curators' check photos (may not exist)."""
    return ref.root / CHECKS_DIR


def _photos(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    )


def check_photos(ref: GuideRef, limits: ImageLimits = DEFAULT_LIMITS) -> dict[str, list[CheckPhoto]]:
    """The guide's check photos by role (:data:`VALIDATION`, :data:`REPORT`).

    A sub-folder that names no artwork (or detail) of the guide is refused with its name, as is
    a file the image reader cannot use: a curator learns it now, not half-way through a training.
    """
    root = checks_dir(ref)
    roles: dict[str, list[CheckPhoto]] = {VALIDATION: [], REPORT: []}
    if not root.is_dir():
        return roles
    artworks = {a.id: a for a in ref.guide.artworks}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        art = artworks.get(folder.name)
        if art is None:
            raise UserError(
                f"{folder}: check photos for '{folder.name}', which is not an artwork of the guide"
            )
        groups = {art.id: _photos(folder)}
        details = {d.id for d in art.details}
        for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
            if sub.name not in details:
                raise UserError(f"{sub}: check photos for '{sub.name}', which is not a detail of {art.id}")
            groups[f"{art.id}/{sub.name}"] = _photos(sub)
        for label, photos in groups.items():
            for i, p in enumerate(photos):
                image_size(p, limits)  # raises an ImageError (a UserError) naming the file
                roles[VALIDATION if i % 2 == 0 else REPORT].append(CheckPhoto(p.resolve(), label))
    return roles


def count_check_photos(ref: GuideRef) -> dict[str, int]:
    """How many check photos each artwork has (details' included), for the studio to show."""
    root = checks_dir(ref)
    counts = {a.id: 0 for a in ref.guide.artworks}
    if root.is_dir():
        for art in ref.guide.artworks:
            folder = root / art.id
            if folder.is_dir():
                counts[art.id] = sum(
                    1 for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                )
    return counts
