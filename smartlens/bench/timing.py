"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

#: The yardstick every timing is set beside: a plain SIFT extraction of the same frames, at a fixed
#: size and budget (the size the verified query used when the yardstick was chosen), so it stays
#: the same amount of work whatever the recognisers' settings become.
YARDSTICK_SIDE, YARDSTICK_FEATURES = 560, 800


class _Yardstick:
    """Plain OpenCV SIFT at :data:`YARDSTICK_SIDE` and :data:`YARDSTICK_FEATURES` (grey, scaled
    down, detect and describe), the work verified retrieval's extractor did when the yardstick was
    chosen. Written with OpenCV alone: the benchmark's scoring, which a training's report uses,
    imports this module, and must not import the methods that train."""

    def __init__(self) -> None:
        import threading

        self._local = threading.local()  # one detector per thread: the parallel part calls it from several

    def extract(self, image_bgr: np.ndarray) -> object:
        import cv2

        from ..imaging import fit_within

        sift = getattr(self._local, "sift", None)
        if sift is None:
            sift = self._local.sift = cv2.SIFT.create(nfeatures=YARDSTICK_FEATURES, contrastThreshold=0.02)
        gray = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        return sift.detectAndCompute(fit_within(gray, YARDSTICK_SIDE)[0], None)


def yardstick_extractor() -> _Yardstick:
    """The SIFT extraction the yardstick times (see :data:`YARDSTICK_SIDE`)."""
    return _Yardstick()


def time_ms(fn: Callable[[], object], repeat: int, warmup: int = 2) -> np.ndarray:
    """Milliseconds per call of ``fn`` over ``repeat`` calls, after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    out = np.empty(repeat)
    for i in range(repeat):
        t0 = time.perf_counter()
        fn()
        out[i] = (time.perf_counter() - t0) * 1000
    return out


def summary(ms: np.ndarray | list[float]) -> dict[str, float]:
    ms = np.asarray(ms, float)
    if ms.size == 0:
        return {"median_ms": float("nan"), "p95_ms": float("nan")}
    return {"median_ms": round(float(np.median(ms)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def table(rows: list[dict], columns: list[str]) -> str:
    """A plain text table of ``rows`` (dicts) over ``columns``."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [
        max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line, sep] + ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells])
