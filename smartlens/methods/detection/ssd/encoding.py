"""Box encoding against anchors (SSD's offsets with variances), IoU, and anchor matching."""

from __future__ import annotations

import numpy as np

from ....geometry import iou

#: SSD's variances: centre offsets are divided by 0.1, log-size ratios by 0.2, so both have a
#: spread near 1 for the loss.
VARIANCES = (0.1, 0.2)
#: Anchors matched with IoU at least POSITIVE_IOU learn the box; below NEGATIVE_IOU they learn
#: "background"; in between they are ignored.
POSITIVE_IOU, NEGATIVE_IOU = 0.5, 0.4
IGNORE = -1


def corners(cxcywh: np.ndarray) -> np.ndarray:
    """(cx, cy, w, h) -> (x0, y0, x1, y1)."""
    c = np.asarray(cxcywh, np.float64)
    half = c[..., 2:] / 2
    return np.concatenate([c[..., :2] - half, c[..., :2] + half], axis=-1)


def centres(x0y0x1y1: np.ndarray) -> np.ndarray:
    """(x0, y0, x1, y1) -> (cx, cy, w, h)."""
    b = np.asarray(x0y0x1y1, np.float64)
    return np.concatenate([(b[..., :2] + b[..., 2:]) / 2, b[..., 2:] - b[..., :2]], axis=-1)


def encode(boxes: np.ndarray, anchors: np.ndarray, variances: tuple[float, float] = VARIANCES) -> np.ndarray:
    """Corner boxes (N, 4), one per anchor, as offsets from the anchors (N, 4) ``(cx, cy, w, h)``."""
    b, a = centres(boxes), np.asarray(anchors, np.float64)
    xy = (b[:, :2] - a[:, :2]) / a[:, 2:] / variances[0]
    wh = np.log(np.maximum(b[:, 2:], 1e-9) / a[:, 2:]) / variances[1]
    return np.concatenate([xy, wh], axis=1).astype(np.float32)


def decode(
    offsets: np.ndarray, anchors: np.ndarray, variances: tuple[float, float] = VARIANCES
) -> np.ndarray:
    """The inverse of :func:`encode`: offsets (N, 4) -> corner boxes (N, 4)."""
    o, a = np.asarray(offsets, np.float64), np.asarray(anchors, np.float64)
    xy = a[:, :2] + o[:, :2] * variances[0] * a[:, 2:]
    wh = a[:, 2:] * np.exp(o[:, 2:] * variances[1])
    return corners(np.concatenate([xy, wh], axis=1))


def decode_tf(offsets, anchors, variances: tuple[float, float] = VARIANCES):
    """:func:`decode` in TensorFlow (inside the compiled per-frame call)."""
    import tensorflow as tf

    xy = anchors[:, :2] + offsets[..., :2] * variances[0] * anchors[:, 2:]
    wh = anchors[:, 2:] * tf.exp(tf.minimum(offsets[..., 2:] * variances[1], 8.0))
    return tf.concat([xy - wh / 2, xy + wh / 2], axis=-1)


def match(
    boxes: np.ndarray,
    labels: np.ndarray,
    anchors: np.ndarray,
    positive: float = POSITIVE_IOU,
    negative: float = NEGATIVE_IOU,
) -> tuple[np.ndarray, np.ndarray]:
    """Training targets of one image: (offsets (A, 4), class per anchor (A,)).

    ``boxes`` are corner boxes of the image's objects and ``labels`` their classes (1..C; 0 is
    background). An anchor takes the object it overlaps most when IoU >= ``positive``; every
    object also takes its single best anchor, so small or odd-shaped ones are never left
    without one. Anchors between ``negative`` and ``positive`` are :data:`IGNORE`.
    """
    n = len(anchors)
    cls = np.zeros(n, np.int32)
    offsets = np.zeros((n, 4), np.float32)
    if len(boxes) == 0:
        return offsets, cls
    overlaps = iou(corners(anchors), boxes)  # (A, M)
    best = overlaps.argmax(axis=1)
    best_iou = overlaps[np.arange(n), best]
    for m in range(len(boxes)):  # each object's best anchor is its own
        a = int(overlaps[:, m].argmax())
        best[a], best_iou[a] = m, 1.0
    cls[(best_iou >= negative) & (best_iou < positive)] = IGNORE
    pos = best_iou >= positive
    cls[pos] = np.asarray(labels, np.int32)[best[pos]]
    offsets[pos] = encode(np.asarray(boxes)[best[pos]], anchors[pos])
    return offsets, cls
