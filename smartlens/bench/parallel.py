"""``bench load --parts parallel``: full recognitions per second with 1, 2, ... visitors at once,
through the lens' own slots (:class:`~smartlens.lens.slots.FairSlots`, one per visitor): each
visitor asks for its next recognition as soon as its last one is done, on the clip's frames.

Printed per number of visitors: recognitions per second (median and range over the repeats), the
speed-up over one visitor measured in the same repeat, the process' CPU seconds per wall second
(2.0 = both cores of a 2-core machine busy) and the CPU milliseconds one recognition cost (on a
machine shared with other work, the wall-clock figures follow what the scheduler gives; this one
says whether running side by side made recognitions dearer). The yardstick (a plain SIFT
extraction) is run the same way, interleaved: what any OpenCV work on that many threads got from
the machine in the same minutes. Repeats alternate, so a machine whose speed drifts affects all
alike. Each row is measured with OpenCV's own thread pool at its default size and at one thread
(``cv2.setNumThreads``): SIFT spreads over the cores by itself, which helps one visitor alone and
may only add contention when every core already runs a recognition.

On a machine shared with other work the wall-clock figures say little (Linux shares the CPU
between sessions, not threads, so a process may get one core whatever its threads), so the part
also prints a figure no neighbour changes: the share of a recognition's CPU time spent inside
OpenCV calls and whole-array numpy programs (:data:`ARRAY_PROGRAMS`), which release Python's GIL
(cProfile on the recognising thread, OpenCV on one thread), and the speed-up it bounds with N
visitors at once (Amdahl: 1 / (held + free / N)).
"""

from __future__ import annotations

import cProfile
import pstats
import re
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..methods import Recognizer
from .clip import Clip
from .timing import yardstick_extractor


def rate(
    work: Callable[[np.ndarray], object], clip: Clip, visitors: int, seconds: float
) -> tuple[float, float]:
    """(calls of ``work`` per second, process CPU seconds per wall second) with ``visitors`` at once,
    each calling it on its next frame as soon as its last call is done, through the lens' slots."""
    from ..lens.slots import FairSlots

    slots = FairSlots(visitors, idle_s=1.0, name="bench-slot")
    done = [0] * visitors
    stop = time.monotonic() + seconds
    finished = threading.Semaphore(0)
    frames = clip.frames
    step = max(1, len(frames) // 40)

    def ask(v: int, k: int) -> None:
        def job() -> None:
            work(frames[(k * step + v * 7) % len(frames)])
            done[v] += 1
            if time.monotonic() < stop:
                ask(v, k + 1)  # the visitor's next frame, as soon as this one is done
            else:
                finished.release()

        slots.submit(f"visitor-{v}", job)

    c0, w0 = time.process_time(), time.monotonic()
    for v in range(visitors):
        ask(v, 0)
    for _ in range(visitors):
        finished.acquire()
    wall = time.monotonic() - w0
    return sum(done) / wall, (time.process_time() - c0) / wall


def _in_opencv(name: str) -> bool:
    """Whether a cProfile entry of a built-in is an OpenCV call (``cv2`` methods name their class;
    its functions show as a bare ``<name>``, where Python's and numpy's say ``built-in``)."""
    return "cv2." in name or re.fullmatch(r"<[A-Za-z]\w*>", name) is not None


#: Functions that are whole-array numpy programs (file, name): numpy releases the GIL inside each
#: operation's loop over a large array, but cProfile shows that time as the calling function's
#: own, not as calls apart. Counted as GIL-free with OpenCV's calls: with OpenCV's alone, two
#: visitors recognising at once were bounded at 1.52x one, and measured 1.72x and 1.77x (`bench
#: load --parts parallel`, two runs of 2026-12-07, one OpenCV thread) once the patch descriptor's
#: histograms were part of a recognition.
ARRAY_PROGRAMS = {("patch_descriptor.py", "_histograms")}


def gil_free_share(recognizer: Recognizer, clip: Clip, frames: int = 40) -> dict[str, float]:
    """Share of a recognition's CPU spent where the GIL is released (OpenCV calls, the whole-array
    numpy programs of :data:`ARRAY_PROGRAMS`), on this thread."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)  # so an OpenCV call's work is on the calling thread, where it is timed
    try:
        step = max(1, len(clip.frames) // frames)
        chosen = clip.frames[::step][:frames]
        for f in chosen[:3]:
            recognizer.recognize(f)
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        for f in chosen:
            recognizer.recognize(f)
        profile.disable()
    finally:
        cv2.setNumThreads(threads)
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    free = sum(
        v[2]
        for (path, _, name), v in stats.items()
        if (path == "~" and _in_opencv(name)) or (Path(path).name, name) in ARRAY_PROGRAMS
    )
    share = free / total if total else 0.0
    return {
        "cpu_ms_per_recognition": round(1000 * total / len(chosen), 1),
        "gil_free_share": round(share, 3),
        "bound_2": round(1 / ((1 - share) + share / 2), 2),
        "bound_4": round(1 / ((1 - share) + share / 4), 2),
    }


def parallel(
    recognizer: Recognizer,
    clip: Clip,
    visitors: tuple[int, ...] = (1, 2),
    seconds: float = 8.0,
    repeats: int = 3,
) -> list[dict[str, Any]]:
    """One row per (OpenCV threads, work, visitors) over ``repeats`` alternating repeats; the work
    is a full recognition, or the yardstick (a plain SIFT extraction): what the machine lets any
    OpenCV work on that many threads do in the same minutes."""
    default_threads = cv2.getNumThreads()
    ruler = yardstick_extractor()
    works: dict[str, Callable[[np.ndarray], object]] = {
        "recognition": recognizer.recognize,
        "yardstick": ruler.extract,
    }
    rows: list[dict[str, Any]] = []
    for cv_threads in dict.fromkeys((default_threads, 1)):
        cv2.setNumThreads(cv_threads)
        for f in clip.frames[:3]:  # warm up this thread pool size
            recognizer.recognize(f)
        runs: dict[tuple[str, int], list[tuple[float, float]]] = {(w, n): [] for w in works for n in visitors}
        for _ in range(repeats):
            for w, fn in works.items():
                for n in visitors:
                    runs[w, n].append(rate(fn, clip, n, seconds))
        for w in works:
            for n in visitors:
                per_s = [r for r, _ in runs[w, n]]
                speedup = [r / one for (r, _), (one, _) in zip(runs[w, n], runs[w, visitors[0]])]
                rows.append(
                    {
                        "opencv_threads": cv_threads,
                        "work": w,
                        "visitors": n,
                        "per_s": round(statistics.median(per_s), 2),
                        "range": f"{min(per_s):.2f}-{max(per_s):.2f}",
                        f"speedup_vs_{visitors[0]}": round(statistics.median(speedup), 2),
                        "speedup_range": f"{min(speedup):.2f}-{max(speedup):.2f}",
                        "cpu_per_wall_s": round(statistics.median(c for _, c in runs[w, n]), 2),
                        # CPU one call costs: the same with more visitors when nothing contends
                        "cpu_ms_per_call": round(statistics.median(1000 * c / r for r, c in runs[w, n]), 1),
                    }
                )
    cv2.setNumThreads(default_threads)
    return rows
