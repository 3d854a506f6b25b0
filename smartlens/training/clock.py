"""A training's clock: its time budget, each phase's deadline, the time left it announces, and
the stop request.

The budget counts from when the job was asked for (``started``, a ``time.time()`` value: the
studio's press, not the moment TensorFlow finished loading), so "20 minutes" is 20 minutes of
the curator's wait. Every progress event a training sends through :meth:`Clock.watch` carries
``ends_at``: the earliest of the budget's end and the pace of the work so far, so the time left a
page shows is never more than what remains of the budget, and shrinks when the epochs run out
first.
"""

from __future__ import annotations

import time
from dataclasses import replace

from ..progress import Progress, ProgressEvent, StopSignal


class TrainingCancelledError(Exception):
    """The training was asked to stop before it had a model to keep."""


class Clock:
    """Budget, deadlines and the announced end of one training."""

    def __init__(
        self, budget_minutes: float | None, started: float | None = None, stop: StopSignal | None = None
    ) -> None:
        now = time.monotonic()
        # the job's start on this process' monotonic clock (a wall clock may jump)
        self.t0 = now - max(0.0, time.time() - started) if started else now
        self.budget_s = float(budget_minutes) * 60 if budget_minutes else None
        self.stop = stop
        self._expected: float | None = None  # monotonic: when the work's pace says it ends

    @property
    def end(self) -> float | None:
        """When the budget runs out (monotonic), or None without a budget."""
        return None if self.budget_s is None else self.t0 + self.budget_s

    def at(self, share: float) -> float | None:
        """The monotonic time ``share`` of the budget after the start (None without a budget)."""
        return None if self.budget_s is None else self.t0 + share * self.budget_s

    def before_end(self, seconds: float) -> float | None:
        """``seconds`` before the budget's end (None without a budget)."""
        return None if self.end is None else self.end - seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def expect(self, seconds_left: float | None) -> None:
        """The work's own estimate of the seconds it still needs (None: no estimate)."""
        self._expected = None if seconds_left is None else time.monotonic() + max(0.0, seconds_left)

    def ends_at(self) -> float | None:
        """When the job should be over, as a ``time.time()`` value (None when nothing says)."""
        ends = [e for e in (self.end, self._expected) if e is not None]
        if not ends:
            return None
        return time.time() + max(0.0, min(ends) - time.monotonic())

    def stopping(self) -> bool:
        """Whether someone asked the training to stop."""
        return self.stop is not None and bool(self.stop.is_set())

    def watch(self, progress: Progress) -> Progress:
        """``progress`` with ``ends_at`` on every event."""

        def report(event: ProgressEvent) -> None:
            progress(replace(event, ends_at=self.ends_at()))

        return report

    def cancellable(self, progress: Progress) -> Progress:
        """``progress`` that ends the work calling it (making views) once a stop is asked for:
        nothing is kept, there is no model yet."""

        def report(event: ProgressEvent) -> None:
            if self.stopping():
                raise TrainingCancelledError("cancelled while making views: no model was trained")
            progress(event)

        return report
