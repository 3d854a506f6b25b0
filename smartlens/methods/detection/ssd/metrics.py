"""Held-out figures of a detector: average precision per class, and the score above which each
class's box is trusted (calibrated on held-out views, negatives included).

Each image contributes its best-scoring box per class (at most one object of a class is in a
frame: a guide's detail appears once), so a class's detections are one score and one box per
image.
"""

from __future__ import annotations

import numpy as np

from ....geometry import iou

MATCH_IOU = 0.5


def outcomes(boxes: np.ndarray, truths: list[dict[int, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(correct, present), both (images, classes + 1) bool: the class is in the image, and its best
    box overlaps the true one with IoU >= 0.5. ``boxes`` (images, classes + 1, 4) corners;
    ``truths`` per image: class -> true corner box."""
    n, k = boxes.shape[:2]
    correct = np.zeros((n, k), bool)
    present = np.zeros((n, k), bool)
    for i, truth in enumerate(truths):
        for c, box in truth.items():
            present[i, c] = True
            correct[i, c] = iou(boxes[i, c][None], np.asarray(box)[None])[0, 0] >= MATCH_IOU
    return correct, present


def average_precision(scores: np.ndarray, correct: np.ndarray, n_true: int) -> float:
    """Area under the precision-recall curve (all points, precision made monotone, as VOC 2010+)."""
    if n_true == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    tp = np.cumsum(correct[order])
    fp = np.cumsum(~correct[order])
    recall = np.concatenate([[0.0], tp / n_true, [1.0]])
    precision = np.concatenate([[1.0], tp / np.maximum(tp + fp, 1), [0.0]])
    precision = np.maximum.accumulate(precision[::-1])[::-1]
    step = np.flatnonzero(recall[1:] != recall[:-1])
    return float(np.sum((recall[step + 1] - recall[step]) * precision[step + 1]))


def calibrate_thresholds(
    scores: np.ndarray,
    correct: np.ndarray,
    negative: np.ndarray,
    negative_cost: float = 5.0,
    floor: float = 0.2,
) -> np.ndarray:
    """Per class (column), the score above which accepting its best box pays off most.

    A right box counts +1, a wrong one (wrong place, or a class not in the view) -1, and any box
    on a negative frame (a room, a painting not in the guide) -``negative_cost``. ``scores`` and
    ``correct`` are (images, classes + 1); ``negative`` (images,) marks frames with no guide
    artwork. Classes that never pay off get a threshold above every score seen.
    """
    grid = np.round(np.arange(floor, 0.995, 0.01), 3)
    thr = np.ones(scores.shape[1], np.float32)
    for c in range(1, scores.shape[1]):
        s = scores[:, c]
        above = s[None, :] >= grid[:, None]  # (grid, images)
        gain = (
            (above & correct[None, :, c]).sum(1)
            - (above & ~correct[None, :, c] & ~negative[None]).sum(1)
            - negative_cost * (above & negative[None]).sum(1)
        )
        best = int(np.argmax(gain))  # the lowest of equal gains
        thr[c] = grid[best] if gain[best] > 0 else 1.0
    return thr


def evaluate(
    scores: np.ndarray,
    boxes: np.ndarray,
    truths: list[dict[int, np.ndarray]],
    negative: np.ndarray,
    thresholds: np.ndarray,
    names: list[str],
) -> dict:
    """mAP@0.5 and AP per class (no thresholds), then recall, precision and negatives with a
    false box at the calibrated thresholds. ``names`` includes the background at index 0."""
    correct, present = outcomes(boxes, truths)
    ap = {
        names[c]: average_precision(scores[:, c], correct[:, c], int(present[:, c].sum()))
        for c in range(1, len(names))
    }
    known = [v for v in ap.values() if not np.isnan(v)]
    accepted = scores >= thresholds[None, :]
    accepted[:, 0] = False
    tp = int((accepted & correct).sum())
    return {
        "map50": round(float(np.mean(known)) * 100, 1) if known else None,
        "per_class_ap": {k: (None if np.isnan(v) else round(v * 100, 1)) for k, v in ap.items()},
        "recall": round(tp / max(1, int(present.sum())) * 100, 1),
        "precision": round(tp / max(1, int(accepted[~negative].sum())) * 100, 1),
        "negatives_fp": round(float(accepted[negative].any(axis=1).mean()) * 100, 1)
        if negative.any()
        else None,
        "views": int((~negative).sum()),
        "negatives": int(negative.sum()),
    }
