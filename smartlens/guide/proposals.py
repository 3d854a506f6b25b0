"""Pre-annotation: detail boxes proposed by a model, kept apart from the guide until accepted.

Proposals live in ``<guide root>/proposals.json`` (never in guide.json), each marked automatic
with its source (``detection:<model>`` or ``retrieval:<other guide>``) and score. A curator
accepts them one by one (the box becomes a detail of the artwork, through :mod:`.edit`) or
rejects them (the proposal is dropped). Every change of the file is a read-modify-write under
the guide's lock, written atomically.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..config import Settings
from ..errors import UserError
from ..geometry import Box, float_box, int_box
from ..storage import atomic_write_json, slugify
from .edit import edit_guide
from .lock import guide_lock
from .model import Detail, Guide
from .store import GuideRef

PROPOSALS = "proposals.json"
FORMAT = "smartlens-proposals/1"
#: A proposal overlapping an existing detail of its artwork this much is already annotated.
DUPLICATE_IOU = 0.5
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


@dataclass
class Proposal:
    """One proposed detail box on an artwork's image (pixels of that image)."""

    id: str
    artwork: str
    label: str  # the proposed detail id / name ("face")
    box: Box  # x, y, width, height in pixels of the artwork image
    score: float
    source: str  # "detection:<model folder>" or "retrieval:<guide>"
    found_as: str = ""  # what the model found it as ("mona-lisa/face")
    automatic: bool = True
    created: float = 0.0


def proposals_path(ref: GuideRef) -> Path:
    return ref.root / PROPOSALS


def _read(path: Path) -> list[Proposal]:
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Proposal(**{**p, "box": float_box(p["box"])}) for p in data["proposals"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{path}: damaged ({exc}); remove it and propose again") from None


def _write(path: Path, proposals: list[Proposal]) -> None:
    atomic_write_json(
        path, {"format": FORMAT, "proposals": [{**asdict(p), "box": list(p.box)} for p in proposals]}
    )


def read_proposals(ref: GuideRef, artwork: str | None = None) -> list[Proposal]:
    """The guide's pending proposals (of one artwork when given)."""
    found = _read(proposals_path(ref))
    return [p for p in found if artwork is None or p.artwork == artwork]


def add_proposals(ref: GuideRef, new: list[Proposal]) -> list[Proposal]:
    """Save ``new``, replacing older proposals of the same source on the same artworks."""
    with guide_lock(ref.root):
        old = _read(proposals_path(ref))
        redone = {(p.source, p.artwork) for p in new}
        _write(proposals_path(ref), [p for p in old if (p.source, p.artwork) not in redone] + new)
    return new


def _take(ref: GuideRef, proposal_id: str) -> Proposal:
    with guide_lock(ref.root):
        found = _read(proposals_path(ref))
        mine = [p for p in found if p.id == proposal_id]
        if not mine:
            raise UserError(f"no pending proposal {proposal_id!r} in guide '{ref.guide.name}'")
        _write(proposals_path(ref), [p for p in found if p.id != proposal_id])
    return mine[0]


def reject(ref: GuideRef, proposal_id: str) -> None:
    """Drop one proposal."""
    _take(ref, proposal_id)


def accept(ref: GuideRef, proposal_id: str, settings: Settings, language: str | None = None) -> GuideRef:
    """Add one proposal to its artwork as a new detail (named by its label, made unique) and drop
    it from the proposals; returns the updated guide."""
    proposal = next((p for p in read_proposals(ref) if p.id == proposal_id), None)
    if proposal is None:
        raise UserError(f"no pending proposal {proposal_id!r} in guide '{ref.guide.name}'")
    lang = language or ref.guide.default_language

    def change(guide: Guide) -> None:
        try:
            art = guide.artwork(proposal.artwork)
        except KeyError:
            raise UserError(f"artwork '{proposal.artwork}' is no longer in the guide") from None
        base = slugify(proposal.label, "detail")
        det_id, n = base, 2
        while any(d.id == det_id for d in art.details):
            det_id, n = f"{base}-{n}", n + 1
        art.details.append(Detail(det_id, int_box(proposal.box), name={lang: proposal.label}))

    updated = edit_guide(ref, change, limits=settings.image_limits)
    _take(ref, proposal_id)
    return updated
