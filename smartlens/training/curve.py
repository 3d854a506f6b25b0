"""A training curve as a PNG, drawn with OpenCV (no plotting library needed)."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ..storage import atomic_write_bytes

COLOURS = [(200, 90, 30), (40, 140, 240), (60, 170, 60), (180, 60, 180)]


def draw_curve(series: dict[str, list[float]], title: str, size: tuple[int, int] = (720, 420)) -> np.ndarray:
    """Lines of ``series`` (name -> value per epoch, values in [0, 1] or any), with axes and a legend."""
    w, h = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 60, 20, 40, 40
    values = [v for s in series.values() for v in s if np.isfinite(v)]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    if 0 <= lo and hi <= 1:
        lo, hi = 0.0, 1.0
    hi = hi if hi > lo else lo + 1
    n = max((len(s) for s in series.values()), default=1)
    cv2.putText(img, title, (left, 26), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1, cv2.LINE_AA)
    for k in range(5):
        y = top + (h - top - bottom) * k // 4
        cv2.line(img, (left, y), (w - right, y), (225, 225, 225), 1)
        cv2.putText(img, f"{hi - (hi - lo) * k / 4:.2f}", (8, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (120, 120, 120), 1)
    cv2.putText(img, "epoch", (w // 2, h - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (90, 90, 90), 1)

    def xy(i: int, v: float) -> tuple[int, int]:
        x = left + (w - left - right) * (i / max(1, n - 1))
        y = top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))
        return int(x), int(y)

    for c, (name, s) in enumerate(series.items()):
        colour = COLOURS[c % len(COLOURS)]
        pts = [xy(i, v) for i, v in enumerate(s) if np.isfinite(v)]
        for p, q in zip(pts, pts[1:]):
            cv2.line(img, p, q, colour, 2, cv2.LINE_AA)
        for p in pts:
            cv2.circle(img, p, 3, colour, -1, cv2.LINE_AA)
        cv2.putText(img, name, (w - right - 170, top + 20 + 18 * c), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return img


def save_curve(path: Path, series: dict[str, list[float]], title: str) -> Path:
    ok, buf = cv2.imencode(".png", draw_curve(series, title))
    return atomic_write_bytes(path, buf.tobytes())
