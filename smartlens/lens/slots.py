"""Inference slots shared by every visitor of a lens process: N recognition threads, in turn.

Each slot is a long-lived thread that runs one visitor's recognition at a time, so N slots are
N recognitions in parallel (the recognisers keep no lock around a recognition) and a recogniser's
per-thread state (its SIFT detector, its TFLite interpreter) is made once per slot, not once per
recognition. A visitor has at most one request waiting; a free slot takes the visitor that has
waited longest, so no visitor starves and nobody's latency piles up. Threads start when work
comes and end after ``idle_s`` without any, so an empty lens holds no thread of its own, and
nothing about a visitor is kept once its request has run or been withdrawn.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger("smartlens.lens")


class FairSlots:
    """``slots`` recognition threads shared by all visitors, handed out in turn."""

    def __init__(self, slots: int = 1, idle_s: float = 30.0, name: str = "lens-recognition"):
        if slots < 1:
            raise ValueError(f"slots must be at least 1, not {slots}")
        self.slots, self.idle_s, self.name = slots, idle_s, name
        self._cond = threading.Condition()
        # visitor -> its waiting job; insertion order is the order of their turns
        self._waiting: OrderedDict[str, Callable[[], None]] = OrderedDict()
        self._threads = 0  # started and not yet ended
        self._idle = 0  # threads waiting for work
        self.ran = 0  # jobs run (for tests and benchmarks)

    # --- what visitors call --------------------------------------------------------------------
    def submit(self, visitor: str, job: Callable[[], None], urgent: bool = True) -> bool:
        """Run ``job`` on a slot when ``visitor``'s turn comes; True when it was taken.

        A visitor that already waits keeps its place (its job is replaced by this one). An urgent
        job always queues; another one (a confirmation) is taken only when a slot is idle and
        nobody waits, so confirmations never delay a visitor who needs a first recognition.
        """
        with self._cond:
            if not urgent and visitor not in self._waiting and (self._waiting or not self._has_room()):
                return False
            self._waiting[visitor] = job
            if self._idle > len(self._waiting) - 1:
                self._cond.notify()
            elif self._threads < self.slots:
                self._start_thread()
            return True

    def withdraw(self, visitor: str) -> bool:
        """Forget ``visitor``'s waiting job (it left, or asks no more); True when one waited."""
        with self._cond:
            return self._waiting.pop(visitor, None) is not None

    def hold(self, timeout: float | None = None) -> _Held | None:
        """Take one slot away from the visitors until the returned handle's ``release()`` (tests and
        benchmarks use it to stand for another visitor's long recognition); None on timeout."""
        taken, release = threading.Event(), threading.Event()

        def job() -> None:
            taken.set()
            release.wait()

        self.submit(f"held-{id(release)}", job)
        if not taken.wait(timeout):
            self.withdraw(f"held-{id(release)}")
            release.set()
            return None
        return _Held(release)

    # --- what the lens and its tests look at ------------------------------------------------------
    @property
    def waiting(self) -> int:
        """Visitors waiting for a slot now."""
        with self._cond:
            return len(self._waiting)

    @property
    def threads(self) -> int:
        """Slot threads alive now (0 after ``idle_s`` without work)."""
        with self._cond:
            return self._threads

    def busy(self) -> int:
        """Slots running a job now."""
        with self._cond:
            return self._threads - self._idle

    # --- the slots themselves ----------------------------------------------------------------------
    def _has_room(self) -> bool:
        return self._idle > 0 or self._threads < self.slots

    def _start_thread(self) -> None:
        self._threads += 1
        threading.Thread(target=self._serve, name=f"{self.name}-{self._threads}", daemon=True).start()

    def _serve(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                deadline = time.monotonic() + self.idle_s
                while not self._waiting:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        self._idle -= 1
                        self._threads -= 1
                        return
                    self._cond.wait(left)
                self._idle -= 1
                _, job = self._waiting.popitem(last=False)
            try:
                job()
            except Exception:  # a job reports its own failures; this one slipped through
                log.exception("a recognition job failed")
            with self._cond:
                self.ran += 1


class _Held:
    """A slot taken by :meth:`FairSlots.hold`."""

    def __init__(self, release: threading.Event):
        self._release = release

    def release(self) -> None:
        self._release.set()
