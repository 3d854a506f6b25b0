"""Failures on the video path, counted by kind and logged once per kind.

A frame whose processing fails goes back as it came (the visitor keeps video), so the same
failure may repeat on every frame: it is logged the first time, with its traceback, and only
counted afterwards, so the log stays readable and the counts say how often.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

log = logging.getLogger("smartlens.lens")


class Failures:
    """Counts of failures by kind (``'<where>: <ExceptionType>'``); thread-safe, never raises."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def record(self, where: str, exc: BaseException) -> None:
        """Count ``exc`` raised in ``where``; log it if it is the first of its kind."""
        kind = f"{where}: {type(exc).__name__}"
        with self._lock:
            self._counts[kind] += 1
            first = self._counts[kind] == 1
        if first:
            log.warning("%s failed (%s); counted from now on, logged once", where, exc, exc_info=exc)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """How many of each kind so far."""
        with self._lock:
            return dict(self._counts)
