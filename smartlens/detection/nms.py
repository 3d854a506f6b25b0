"""Non-maximum suppression per class (OpenCV's ``NMSBoxes``), and each class's best box."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Detection:
    """One box: its class index (1..C, background excluded), score and corners (x0, y0, x1, y1)."""

    cls: int
    score: float
    box: tuple[float, float, float, float]


def per_class_nms(
    boxes: np.ndarray,
    probs: np.ndarray,
    min_score: float | np.ndarray = 0.3,
    iou: float = 0.45,
    top_k: int = 5,
) -> list[Detection]:
    """Boxes kept by NMS within each class, best first per class.

    ``boxes`` (A, 4) corners, ``probs`` (A, C + 1) with background in column 0; ``min_score`` is
    one threshold or one per column.
    """
    n_cols = probs.shape[1]
    thr = np.broadcast_to(np.asarray(min_score, np.float32), (n_cols,))
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1).astype(np.float32)
    out = []
    for c in range(1, n_cols):
        keep = np.flatnonzero(probs[:, c] >= thr[c])
        if not len(keep):
            continue
        idx = cv2.dnn.NMSBoxes(xywh[keep].tolist(), probs[keep, c].tolist(), float(thr[c]), iou, top_k=top_k)
        for i in np.asarray(idx, int).reshape(-1):
            a = keep[i]
            out.append(Detection(c, float(probs[a, c]), tuple(float(v) for v in boxes[a])))  # type: ignore[arg-type]
    return sorted(out, key=lambda d: (d.cls, -d.score))


def best_per_class(boxes: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(score (C+1,), box (C+1, 4)) of each class's most probable anchor (column 0 unused)."""
    best = probs.argmax(axis=0)
    return probs[best, np.arange(probs.shape[1])], boxes[best]
