"""Which box each class keeps: its most probable anchor's.

Every class of a guide's detector is one instance (one artwork's outline, one detail of one
artwork), so a frame holds at most one box of each class: the most probable anchor is the answer,
and no non-maximum suppression between boxes of a class is needed.
"""

from __future__ import annotations

import numpy as np


def best_per_class(boxes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score (C+1,), box (C+1, 4)) of each class's most probable anchor (column 0 unused)."""
    best = probs.argmax(axis=0)
    return probs[best, np.arange(probs.shape[1])], boxes[best]
