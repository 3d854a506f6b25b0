"""One visitor's full recognitions, off the frame loop (as AR systems do).

The frame loop asks; the recognition runs on one of the process' shared slots
(:class:`~.slots.FairSlots`) when the visitor's turn comes, on the newest frame asked for by
then; the result waits for the next frame to pick it up. One recognition at a time per visitor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np

from ..recognition.result import Recognition
from .slots import FairSlots

#: What a finished recognition comes with: the frame's grey image it was made on (or None).
Done = tuple[Recognition, np.ndarray | None]


class RecognitionWorker:
    """A visitor's recognitions on the shared slots; ``run`` does one (None: it failed)."""

    def __init__(
        self,
        slots: FairSlots,
        session: str,
        run: Callable[[np.ndarray], Recognition | None],
        give_up_s: float = 1.0,
    ):
        self._slots, self._session, self._run = slots, session, run
        self._give_up_s = give_up_s
        self._cond = threading.Condition()
        self._asked: tuple[np.ndarray, np.ndarray | None, float] | None = None
        self._queued = False  # a job of ours waits for a slot
        self._running = False
        self._done: Done | None = None
        self._generation = 0  # cancel() discards what is under way
        self.skipped = 0  # asks not taken (no free slot for a confirmation) or given up

    def ask(self, bgr: np.ndarray, gray: np.ndarray | None, urgent: bool = True) -> None:
        """Recognise this frame (or a newer one) unless a recognition is under way or unread.

        An urgent one (nothing is shown) waits for the visitor's turn; another (confirming what is
        tracked) runs only if a slot is free and nobody waits, else a later frame asks again."""
        with self._cond:
            if self._running or self._done is not None:
                return
            self._asked = (bgr, gray, time.monotonic())
            if self._queued:
                return  # the job already waiting will take this newer frame
            self._queued = self._slots.submit(self._session, self._job, urgent)
            if not self._queued:
                self._asked = None
                self.skipped += 1

    def take(self) -> Done | None:
        """The finished recognition and the grey frame it was made on, once."""
        with self._cond:
            done, self._done = self._done, None
            return done

    @property
    def busy(self) -> bool:
        """Whether a recognition is waiting for a slot or running."""
        with self._cond:
            return self._queued or self._running

    def settle(self, timeout: float) -> bool:
        """Wait until nothing is waiting or running; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not (self._queued or self._running), timeout)

    def cancel(self) -> None:
        """Forget what was asked, any waiting turn and any unread result (the stream ended)."""
        with self._cond:
            self._asked, self._done = None, None
            self._generation += 1
            if self._queued and self._slots.withdraw(self._session):
                self._queued = False
                self._cond.notify_all()

    def _job(self) -> None:
        """Runs on a slot: the newest frame asked for, unless the visitor stopped asking."""
        with self._cond:
            job, self._asked = self._asked, None
            self._queued = False
            if job is not None and time.monotonic() - job[2] > self._give_up_s:
                job = None  # the visitor sent no frame for a while: do not spend a slot on it
                self.skipped += 1
            self._running, generation = job is not None, self._generation
            if job is None:
                self._cond.notify_all()
                return
        rec = None
        try:
            rec = self._run(job[0])
        finally:
            with self._cond:
                self._running = False
                if rec is not None and generation == self._generation:
                    self._done = (rec, job[1])
                self._cond.notify_all()
