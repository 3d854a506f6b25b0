"""Visits and dwell for the analytics: when a visitor's look at an artwork (and at each of its
details) begins and ends, from what the card shows and what each frame sees."""

from __future__ import annotations

from collections.abc import Callable

from ..recognition.result import Recognition
from .stabilizer import LensState

#: ``emit(type, **fields)``: log one event of the visitor.
Emit = Callable[..., None]


class Visits:
    """``artwork_recognised`` when a visit begins (the card shows the artwork, or it is seen again
    after being left), ``artwork_left`` with its dwell when the visitor turns to another artwork or
    none is seen for ``left_after_s``; ``detail_left`` with the seconds each detail stayed in view."""

    def __init__(self, emit: Emit, left_after_s: float = 2.0):
        self._emit, self.left_after_s = emit, left_after_s
        self._visit: tuple[str, float, float] | None = None  # artwork, since, last seen
        self._details: dict[tuple[str, str], tuple[float, float]] = {}  # (artwork, detail): since, seen

    @property
    def artwork(self) -> str | None:
        """The artwork being visited now."""
        return self._visit[0] if self._visit is not None else None

    def update(self, state: LensState, news: list[str], rec: Recognition, now: float) -> None:
        """What this frame saw (``rec``), and what the card shows after it (``state``, ``news``)."""
        if self._visit is not None:
            art, since, seen = self._visit
            if rec.artwork == art:
                self._visit = (art, since, now)
            elif "artwork" in news or now - seen > self.left_after_s:
                self._emit("artwork_left", artwork=art, dwell_s=round(seen - since, 2))
                self._visit = None
        if self._visit is None and state.artwork is not None and rec.artwork == state.artwork:
            self._visit = (state.artwork, now, now)
            self._emit("artwork_recognised", artwork=state.artwork, score=round(float(rec.score), 3))
        self._detail_dwell(rec, now)

    def end(self) -> None:
        """The visitor left (the stream ended): end the open visits."""
        if self._visit is not None:
            art, since, seen = self._visit
            self._emit("artwork_left", artwork=art, dwell_s=round(seen - since, 2))
            self._visit = None
        self._detail_dwell(Recognition(None), None)

    def _detail_dwell(self, rec: Recognition, now: float | None) -> None:
        """``detail_left`` once a detail has been out of view for ``left_after_s`` (or its
        artwork's visit ended; ``now`` None: the stream ended)."""
        visiting = self.artwork
        if now is not None and rec.artwork is not None and rec.artwork == visiting:
            for hit in rec.details:
                since, _ = self._details.get((rec.artwork, hit.id), (now, now))
                self._details[(rec.artwork, hit.id)] = (since, now)
        for key, (since, seen) in list(self._details.items()):
            if now is None or key[0] != visiting or now - seen > self.left_after_s:
                self._emit("detail_left", artwork=key[0], detail=key[1], dwell_s=round(seen - since, 2))
                del self._details[key]
