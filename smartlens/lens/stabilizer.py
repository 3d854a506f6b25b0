"""A calm result card: what the lens shows changes only once a new result has held a moment.

Per-frame answers flicker (a blurred frame, a visitor walking by). The stabiliser shows a
new artwork only after it was the answer for ``confirm_frames`` processed frames in a row
or for ``confirm_seconds``; a frame with no artwork never clears the card, so it stays
while the visitor reads. Details seen on the shown artwork are collected as they are
confirmed, so chips do not blink either.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..recognition.result import Recognition


@dataclass(frozen=True)
class LensState:
    """What the card shows; ``version`` grows at every change."""

    artwork: str | None = None
    details: tuple[str, ...] = ()
    score: float = 0.0
    version: int = 0
    since: float = 0.0


@dataclass
class Stabilizer:
    confirm_frames: int = 3
    confirm_seconds: float = 0.8
    detail_frames: int = 2
    state: LensState = field(default_factory=LensState)
    _candidate: str | None = None
    _count: int = 0
    _first_seen: float = 0.0
    _detail_counts: dict[str, int] = field(default_factory=dict)

    def force(self, rec: Recognition, now: float) -> tuple[LensState, list[str]]:
        """Show ``rec`` at once (a snapshot: one photo is all the evidence there will be)."""
        if rec.artwork is None:
            return self.state, []
        details = tuple(d.id for d in rec.details)
        news = (["artwork"] if rec.artwork != self.state.artwork else []) + [
            f"detail:{d}" for d in details if rec.artwork != self.state.artwork or d not in self.state.details
        ]
        self.state = LensState(rec.artwork, details, rec.score, self.state.version + 1, now)
        self._candidate, self._count, self._detail_counts = rec.artwork, self.confirm_frames, {}
        return self.state, news

    def update(self, rec: Recognition, now: float) -> tuple[LensState, list[str]]:
        """Feed one frame's result; returns the state and what became newly shown
        ('artwork' and/or 'detail:<id>' entries)."""
        news: list[str] = []
        if rec.artwork != self._candidate:
            self._candidate, self._count, self._first_seen = rec.artwork, 0, now
        self._count += 1
        s = self.state
        held = self._count >= self.confirm_frames or (
            self._count >= 2 and now - self._first_seen >= self.confirm_seconds
        )
        if self._candidate is not None and self._candidate != s.artwork and held:
            s = LensState(self._candidate, (), rec.score, s.version + 1, now)
            self._detail_counts = {}
            news.append("artwork")
        if s.artwork is not None and rec.artwork == s.artwork:
            seen = {d.id for d in rec.details}
            for det in seen:
                self._detail_counts[det] = self._detail_counts.get(det, 0) + 1
                if self._detail_counts[det] >= self.detail_frames and det not in s.details:
                    s = LensState(s.artwork, s.details + (det,), s.score, s.version + 1, s.since)
                    news.append(f"detail:{det}")
            for det in list(self._detail_counts):
                if det not in seen:  # confirmation needs consecutive frames
                    self._detail_counts[det] = 0
        self.state = s
        return s, news
