"""Visits and dwell alone, on a made-up clock: when each visit begins and ends, and for how long."""

from __future__ import annotations

from smartlens.lens.stabilizer import LensState
from smartlens.lens.visits import Visits
from smartlens.recognition.result import DetailHit, Recognition


class _Log:
    def __init__(self):
        self.rows: list[tuple[str, dict]] = []

    def __call__(self, type_: str, **fields) -> None:
        self.rows.append((type_, fields))

    def types(self) -> list[str]:
        return [t for t, _ in self.rows]


def _seen(artwork: str | None, *details: str) -> Recognition:
    return Recognition(artwork, 0.8, [DetailHit(d, 1.0) for d in details])


def test_a_visit_begins_when_the_card_shows_the_artwork_and_ends_with_its_dwell():
    log = _Log()
    visits = Visits(log, left_after_s=2.0)
    card = LensState("a")
    visits.update(LensState(), [], _seen("a"), 0.0)  # seen, not yet on the card: no visit
    assert visits.artwork is None and log.rows == []
    visits.update(card, ["artwork"], _seen("a"), 0.5)
    assert visits.artwork == "a" and log.rows == [("artwork_recognised", {"artwork": "a", "score": 0.8})]
    visits.update(card, [], _seen("a"), 3.0)
    visits.update(card, [], _seen(None), 4.0)  # a blurred frame: still the same visit
    assert log.types() == ["artwork_recognised"]
    visits.update(card, [], _seen(None), 5.1)  # nothing seen for over 2 s: left
    assert log.rows[-1] == ("artwork_left", {"artwork": "a", "dwell_s": 2.5})
    visits.update(card, [], _seen("a"), 6.0)  # back again: a new visit
    assert log.types()[-1] == "artwork_recognised"


def test_turning_to_another_artwork_ends_the_visit_at_once():
    log = _Log()
    visits = Visits(log)
    visits.update(LensState("a"), ["artwork"], _seen("a"), 0.0)
    visits.update(LensState("a"), [], _seen("a"), 1.0)
    visits.update(LensState("b"), ["artwork"], _seen("b"), 1.2)
    assert log.rows[1:] == [
        ("artwork_left", {"artwork": "a", "dwell_s": 1.0}),
        ("artwork_recognised", {"artwork": "b", "score": 0.8}),
    ]


def test_details_dwell_and_the_end_of_the_stream():
    log = _Log()
    visits = Visits(log, left_after_s=2.0)
    card = LensState("a")
    visits.update(card, ["artwork"], _seen("a", "face"), 0.0)
    visits.update(card, [], _seen("a", "face", "hand"), 1.0)
    visits.update(card, [], _seen("a", "hand"), 3.5)  # the face out of view for 2.5 s
    assert ("detail_left", {"artwork": "a", "detail": "face", "dwell_s": 1.0}) in log.rows
    visits.end()  # the visitor left
    assert log.rows[-2:] == [
        ("artwork_left", {"artwork": "a", "dwell_s": 3.5}),
        ("detail_left", {"artwork": "a", "detail": "hand", "dwell_s": 2.5}),
    ]
    visits.end()  # twice is harmless: nothing more is logged
    assert log.types().count("artwork_left") == 1
