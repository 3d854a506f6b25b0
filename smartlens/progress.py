"""How long work (indexing, augmentation, training) says how far it is, and is asked to stop.

Long jobs take a :data:`Progress` callback and call it with :class:`ProgressEvent` values;
the CLI prints them on one line, the studio's job runner writes them to disk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol


@dataclass(frozen=True)
class ProgressEvent:
    """Which stage, how far the whole job is (0..1), a message, and the latest metrics."""

    stage: str
    fraction: float
    message: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    #: When the whole job should be over (a ``time.time()`` value), if the work knows: a training
    #: says so from its time budget and its epochs' pace (never later than the budget allows).
    ends_at: float | None = None


Progress = Callable[[ProgressEvent], None]


def no_progress(event: ProgressEvent) -> None:
    """The callback used when nobody listens."""


def within(progress: Progress, lo: float, hi: float, stage: str | None = None) -> Progress:
    """A callback for a part of a job: its 0..1 maps to ``lo..hi`` of the whole."""

    def report(event: ProgressEvent) -> None:
        fraction = lo + (hi - lo) * min(1.0, max(0.0, event.fraction))
        progress(replace(event, stage=stage or event.stage, fraction=fraction))

    return report


class StopSignal(Protocol):
    """Anything that says whether to stop (a ``threading.Event``, a job's stop flag): long work
    ends at its next step when it is set."""

    def is_set(self) -> bool: ...
