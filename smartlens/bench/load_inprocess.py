"""``bench load --parts inprocess``: N visitors in this process, each a thread feeding its own
:class:`~smartlens.lens.processor.LensProcessor` (from one shared runtime, as the lens does) at a
fixed camera rate: frames back per second, full recognitions per second, frame latency, time from
framing a new artwork to its title, CPU."""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lens.processor import LensProcessor
from ..lens.runtime import LensRuntime
from .clip import Clip


@dataclass
class VisitorResult:
    frames_back: int = 0
    overlays: int = 0
    recognitions: int = 0
    dropped: int = 0
    latency_ms: list[float] = field(default_factory=list)
    to_title_s: list[float] = field(default_factory=list)
    missed_titles: int = 0


def _visitor(
    proc: LensProcessor, clip: Clip, offset: int, seconds: float, start: threading.Event, out: VisitorResult
) -> None:
    n, fps = len(clip.frames), clip.fps
    cut_set = set(clip.cuts())
    start.wait()
    t0 = time.monotonic()
    last = -1
    pending: tuple[str, float] | None = None  # (artwork, when it came into view)
    shown: str | None = None  # the artwork the visitor's card shows
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        k = int((now - t0) * fps)
        if k == last:  # wait for the camera's next frame
            time.sleep(max(0.0, t0 + (k + 1) / fps - now))
            continue
        out.dropped += max(0, k - last - 1)
        idx = (offset + k) % n
        if any((offset + j) % n in cut_set for j in range(last + 1, k + 1)):
            if pending is not None:
                out.missed_titles += 1
            pending = (clip.artworks[idx], t0 + k / fps)
        last = k
        frame = clip.frames[idx]
        t1 = time.perf_counter()
        drawn = proc.process(frame)
        out.latency_ms.append((time.perf_counter() - t1) * 1000)
        out.frames_back += 1
        out.overlays += drawn is not frame and not np.shares_memory(drawn, frame)
        state = proc.latest_state(None)
        if state is not None:
            shown = state.artwork
        if pending is not None and shown == pending[0]:
            out.to_title_s.append(time.monotonic() - pending[1])
            pending = None
    proc.settle(5.0)  # no recognition left running when the benchmark ends
    out.recognitions = proc.stats().processed
    proc.close()


def inprocess(rt: LensRuntime, clip: Clip, visitors: int, seconds: float) -> dict[str, Any]:
    """``visitors`` threads, each a visitor with its own processor, at the clip's frame rate."""
    results = [VisitorResult() for _ in range(visitors)]
    start = threading.Event()
    n = len(clip.frames)
    threads = [
        threading.Thread(
            target=_visitor,
            args=(rt.new_processor(f"load-{i}", rt.ref.guide.default_language), clip, i * n // visitors),
            kwargs={"seconds": seconds, "start": start, "out": results[i]},
            daemon=True,
        )
        for i in range(visitors)
    ]
    for th in threads:
        th.start()
    c0, w0 = time.process_time(), time.monotonic()
    start.set()
    for th in threads:
        th.join(seconds + 30)
    wall = time.monotonic() - w0
    cores = (time.process_time() - c0) / wall
    lat = np.array([ms for r in results for ms in r.latency_ms], float)
    titles = [t for r in results for t in r.to_title_s]
    fps_each = [r.frames_back / wall for r in results]
    return {
        "visitors": visitors,
        "slots": rt.slots.slots,
        "camera_fps": clip.fps,
        "fps_back_min": round(min(fps_each), 2),
        "fps_back_median": round(statistics.median(fps_each), 2),
        "overlay_share": round(
            sum(r.overlays for r in results) / max(1, sum(r.frames_back for r in results)), 2
        ),
        "recognitions_per_s": round(statistics.median(r.recognitions / wall for r in results), 2),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "latency_p95_ms": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
        "to_title_median_s": round(statistics.median(titles), 2) if titles else None,
        "to_title_max_s": round(max(titles), 2) if titles else None,
        "titles": f"{len(titles)}/{len(titles) + sum(r.missed_titles for r in results)}",
        "cores_busy": round(cores, 2),
        "cores_per_visitor": round(cores / visitors, 3),
    }
