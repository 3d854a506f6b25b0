"""Small timing helpers shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

#: The yardstick every timing is set beside: a plain SIFT extraction of the same frames, at a fixed
#: size and budget (the size the verified query used when the yardstick was chosen), so it stays
#: the same amount of work whatever the recognisers' settings become.
YARDSTICK_SIDE, YARDSTICK_FEATURES = 560, 800


def yardstick_extractor():
    """The SIFT extractor the yardstick times (see :data:`YARDSTICK_SIDE`)."""
    from ..methods.retrieval.local_features import SiftExtractor

    return SiftExtractor(YARDSTICK_FEATURES, YARDSTICK_SIDE)


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
