"""What retrieval calibrates on, shared by both modes: the guide's artworks read one at a time,
which of them get positive views, and the seeds of calibration views.

Thresholds are learned from views of the guide's own artworks drawn by the virtual camera and
from negatives (walls, rooms, textures, other pictures); benchmarks draw their views from other
seeds, so no method is tested on what it tuned on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ...geometry import Box
from ...guide import GuideRef
from ...imaging import read_image

#: Seeds of calibration views; benchmarks draw theirs elsewhere so they never test on these.
CALIBRATION_SEED = 7_000_000
#: Offsets of the seeds of positive views (whole artworks, detail close-ups) from CALIBRATION_SEED.
WHOLE_VIEW_SEEDS = 500_000
DETAIL_VIEW_SEEDS = 600_000


@dataclass(frozen=True)
class CalibrationParams:
    negatives: int = 48
    views_per_artwork: int = 2  # positives (whole views) per artwork
    views_per_detail: int = 1  # close-ups per detail (baseline mode)
    margin: int = 3  # inliers above the worst negative (verified mode)


def artwork_data(ref: GuideRef, every: int = 1) -> Iterator[tuple[int, str, np.ndarray, dict[str, Box]]]:
    """(index, id, image, {detail id: box}) for every ``every``-th artwork, read one at a time
    (a guide of thousands of artworks never sits in memory whole)."""
    for a, art in enumerate(ref.guide.artworks):
        if a % every == 0:
            boxes: dict[str, Box] = {d.id: d.box for d in art.details}
            yield a, art.id, read_image(ref.path(art.image)), boxes


def check_every(ref: GuideRef, most: int = 200) -> int:
    """Positive views are a check, not a fit: at most ~``most`` artworks get them."""
    return max(1, len(ref.guide.artworks) // most)
