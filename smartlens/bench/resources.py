"""What this process holds and spends, read from ``/proc`` (Linux): memory, threads, open files,
and CPU seconds per thread by name, so a benchmark can split the CPU by stage without wrapping
anyone's code."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Held:
    """One look at the process."""

    rss_mb: float  # resident memory
    live_mb: float  # resident memory once malloc has handed back what it keeps free (glibc)
    threads: int  # OS threads (Python's and native ones: OpenCV, TensorFlow, codecs)
    python_threads: int
    open_files: int

    def as_dict(self) -> dict[str, float]:
        return {
            "rss_mb": round(self.rss_mb, 1),
            "live_mb": round(self.live_mb, 1),
            "threads": self.threads,
            "python_threads": self.python_threads,
            "open_files": self.open_files,
        }


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _malloc_trim() -> None:
    """glibc's ``malloc_trim(0)``: free memory malloc keeps (every arena) goes back to the system.
    The lens keeps freed memory on purpose (:mod:`smartlens.allocator`), so resident memory alone
    cannot tell memory in use from memory kept for the next frame; after this it can."""
    try:
        ctypes.CDLL(ctypes.util.find_library("c") or None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):
        pass


def held() -> Held:
    """Resident memory (as it is, and once malloc's free memory is handed back), threads and open
    file descriptors of this process now."""
    rss = _rss_mb()
    _malloc_trim()
    return Held(
        rss,
        _rss_mb(),
        len(os.listdir("/proc/self/task")),
        threading.active_count(),
        len(os.listdir("/proc/self/fd")),
    )


def _python_thread_cpu(thread: threading.Thread) -> float | None:
    """The thread's CPU seconds from its own CPU-time clock (nanoseconds; /proc counts whole
    clock ticks, and a thread that runs a millisecond per frame is sampled by chance), or None
    when it has ended or the clock cannot be read."""
    try:
        return time.clock_gettime(time.pthread_getcpuclockid(thread.ident or 0))
    except (OSError, AttributeError, OverflowError):
        return None


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) so far of every live thread: native id -> (name, seconds). The
    name is the Python thread's (``Thread.name``), else the kernel's (a native thread's)."""
    python = {t.native_id: t for t in threading.enumerate() if t.native_id is not None and t.is_alive()}
    out: dict[int, tuple[str, float]] = {}
    for tid in os.listdir("/proc/self/task"):
        thread = python.get(int(tid))
        seconds = _python_thread_cpu(thread) if thread is not None else None
        if thread is not None and seconds is not None:
            out[int(tid)] = (thread.name, seconds)
            continue
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:  # the thread ended meanwhile
            continue
        name = thread.name if thread is not None else stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        out[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return out


class StageClock:
    """CPU seconds per stage between :meth:`start` and :meth:`stop`, a stage being the threads whose
    name a ``stage_of`` function maps to it (:func:`thread_cpu`'s names). A thread that ended in
    between is counted until its last sample, so call :meth:`sample` now and then in a long run."""

    def __init__(self, stage_of: Callable[[str], str]):
        self.stage_of = stage_of
        self._start: dict[int, tuple[str, float]] = {}
        self._last: dict[int, tuple[str, float]] = {}

    def start(self) -> None:
        self._start = self._last = thread_cpu()

    def sample(self) -> None:
        now = thread_cpu()
        self._last = {**self._last, **now}

    def stop(self) -> dict[str, float]:
        self.sample()
        stages: dict[str, float] = {}
        for tid, (name, seconds) in self._last.items():
            spent = seconds - self._start.get(tid, (name, 0.0))[1]
            stage = self.stage_of(name)
            stages[stage] = stages.get(stage, 0.0) + spent
        return stages
