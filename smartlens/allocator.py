"""Tell glibc's malloc to keep freed memory for the next frame instead of handing it back.

Every frame allocates the same large buffers again (the image pyramid of feature extraction,
descriptors, warped copies). With glibc's defaults, blocks of a few hundred KiB and more are
mapped fresh and unmapped when freed, and the top of the heap is trimmed back to the kernel, so
each frame pays page faults to zero the same memory again: measured here, half of
``recognize``'s CPU time was kernel time. Raising the mmap and trim thresholds keeps those pages
in the process, where the next frame reuses them.

It also caps malloc's arenas at one per core. glibc gives threads up to eight arenas per core,
and the lens runs many short-lived threads (each visitor's stream, the codecs, the recognition
slots): over half an hour of visitors coming and going (``smartlens bench soak``), the memory in
use after everyone had left grew 41 MB in 6 minutes with the default arenas, 1 MB with two
(``MALLOC_ARENA_MAX=2``), as freed memory stayed scattered over many arenas.

Called once at process start (the CLI's ``main`` and the apps); a no-op where malloc is not
glibc's. Equivalent to ``MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=268435456
MALLOC_TOP_PAD_=67108864 MALLOC_ARENA_MAX=<cores>`` in the environment, without asking anyone to
set it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os

log = logging.getLogger(__name__)

# mallopt parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 32 * 2**20  # blocks below this come from the heap and are reused, not mapped anew
TRIM_THRESHOLD = 256 * 2**20  # free memory kept at the heap's top before any is returned
TOP_PAD = 64 * 2**20  # extra grown each time the heap must grow, so it grows rarely


def _mallopt():
    """glibc's ``mallopt``, or None elsewhere (musl, macOS, Windows)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
        fn = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int]
    fn.restype = ctypes.c_int
    return fn


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def keep_freed_memory(
    mmap_threshold: int = MMAP_THRESHOLD,
    trim_threshold: int = TRIM_THRESHOLD,
    top_pad: int = TOP_PAD,
    arena_max: int | None = None,
) -> bool:
    """Apply the settings (``arena_max`` None: one arena per core); True when glibc accepted them
    all. Safe to call any number of times."""
    fn = _mallopt()
    if fn is None:
        return False
    # mallopt returns 1 on success, 0 on error
    ok = all(
        fn(param, value) == 1
        for param, value in (
            (M_MMAP_THRESHOLD, mmap_threshold),
            (M_TRIM_THRESHOLD, trim_threshold),
            (M_TOP_PAD, top_pad),
            (M_ARENA_MAX, arena_max or _cores()),
        )
    )
    if not ok:
        log.debug("mallopt refused a setting: the allocator keeps its defaults")
    return ok
