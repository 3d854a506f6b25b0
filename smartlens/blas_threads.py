"""Keep BLAS (the OpenBLAS copies numpy and OpenCV each bring) on the calling thread.

OpenBLAS runs a frame's matrix products (OpenCV's PCA projection of the query descriptors, its
gemm) on a pool of threads, and the idle threads then spin, waiting for the next call.
Measured here on the lens' frames: one such thread of OpenCV's bundled OpenBLAS kept a whole
core busy for as long as frames came (as much CPU as the recognition itself), taking that core
from SIFT's own threads and from the other visitors. This server's parallelism comes from the
visitors and OpenCV's own thread pool, not from BLAS: one BLAS thread is right.

Called once at process start (the CLI's ``main`` and the apps), like
:func:`smartlens.allocator.keep_freed_memory`: the equivalent of ``OPENBLAS_NUM_THREADS=1``,
which would have to be set before numpy is imported (Streamlit imports it before any app code).
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: ``openblas_set_num_threads`` under the names OpenBLAS builds export it as (plain, numpy's
#: and scipy's 64-bit-integer builds).
_SETTERS = (
    "openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
)


def _loaded_openblas() -> list[Path]:
    """OpenBLAS libraries mapped into this process (numpy loads its own copy)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    found = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower() and "/" in line}
    return sorted(Path(p) for p in found)


def single_threaded_blas() -> int:
    """Set every loaded OpenBLAS to one thread; how many libraries were set (0 where none is
    loaded or it cannot be told). Imports numpy and OpenCV first so their copies are loaded.
    Safe to repeat."""
    import cv2  # noqa: F401  (OpenCV's wheel bundles the OpenBLAS its gemm and PCA use)
    import numpy  # noqa: F401

    done = 0
    for path in _loaded_openblas():
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        for name in _SETTERS:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn.restype = None
                fn(1)
                done += 1
                break
    if not done:
        log.debug("no OpenBLAS to set: numpy's BLAS keeps its default threads")
    return done
