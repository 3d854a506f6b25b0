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


def best_of_outputs(outputs: np.ndarray, anchors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N, C+1), boxes (N, C+1, 4)): each class's best box in each of the detector's raw
    outputs (N, anchors, 4 + C + 1): offsets decoded, classes' softmax, best anchor per class."""
    from .encoding import decode

    scores, boxes = [], []
    for o in outputs:
        z = o[:, 4:] - o[:, 4:].max(axis=1, keepdims=True)
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        s, b = best_per_class(decode(o[:, :4], anchors), probs)
        scores.append(s)
        boxes.append(b)
    return np.array(scores, np.float32), np.array(boxes, np.float32)
