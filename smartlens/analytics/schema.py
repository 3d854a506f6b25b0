"""What one visitor event is: its types, its anonymous fields and their checks.

An event says what happened (a visit started, an artwork or detail was recognised or left, a
detail opened, audio / video / read-aloud played), in which guide, language and method, when,
by which random short-lived session id, and with the recogniser's score or the seconds an
artwork stayed framed. Nothing else: no IP address, no user agent, no free text. Every text
field must be an identifier (guide, artwork and detail ids, language and method codes: ASCII
``[A-Za-z0-9_.:-]``, 1-80 characters), so a visitor's words can never reach the store; an
identifier that looks like an IP address, a device (MAC) address or an e-mail address is refused
too, so neither can be stored by mistake. Numbers must be finite and in their range.
"""

from __future__ import annotations

import ipaddress
import math
import re
import uuid
from dataclasses import dataclass, fields
from datetime import datetime

EVENT_TYPES = (
    "session_start",
    "artwork_recognised",
    "artwork_left",
    "detail_recognised",
    "detail_left",
    "detail_opened",
    "audio_played",
    "video_played",
    "tts_played",
    # the visitor picked another language (with the new one in ``language``): counts the visit in
    # that language even if nothing is framed after the switch
    "language_changed",
)
#: Event types that say something was played (the last step of the funnel).
PLAYED = ("audio_played", "video_played", "tts_played")


@dataclass(frozen=True)
class Event:
    ts: datetime  # UTC, naive
    session: str
    type: str
    guide: str | None = None
    language: str | None = None
    method: str | None = None
    artwork: str | None = None
    detail: str | None = None
    score: float | None = None
    dwell_s: float | None = None


COLUMNS = tuple(f.name for f in fields(Event))
#: DuckDB column types of the store, for JSON-lines reads and Parquet writes alike.
COLUMN_TYPES = {
    "ts": "TIMESTAMP",
    "session": "VARCHAR",
    "type": "VARCHAR",
    "guide": "VARCHAR",
    "language": "VARCHAR",
    "method": "VARCHAR",
    "artwork": "VARCHAR",
    "detail": "VARCHAR",
    "score": "DOUBLE",
    "dwell_s": "DOUBLE",
}
TEXT_FIELDS = ("guide", "language", "method", "artwork", "detail")
NUMBER_FIELDS = ("score", "dwell_s")
#: ASCII only, matched against the whole text (``re.fullmatch``: ``$`` would let a final newline by).
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
_IPV4 = re.compile(r"(?<![0-9])(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?![0-9])")
_IPV6_RUN = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")  # two colons at least
_MAC = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])")
#: ``name:domain.tld``, an e-mail address with its ``@`` (refused by ``_ID``) swapped for a colon
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

#: Seconds an artwork or detail can stay framed: a day at most.
DWELL_RANGE = (0.0, 86_400.0)
#: What each method puts in ``score``, all in 0..1: retrieval/verified inliers / (inliers +
#: threshold), retrieval/baseline 1 - distance / (2 * the entry's largest distance), classification
#: and detection a softmax probability. A method missing here is held to 0..1 as well.
SCORE_RANGES: dict[str, tuple[float, float]] = {
    "retrieval": (0.0, 1.0),
    "classification": (0.0, 1.0),
    "detection": (0.0, 1.0),
}


def new_session_id() -> str:
    """A random id for one visit: links a visit's events, identifies nobody."""
    return uuid.uuid4().hex[:16]


def identifier_problem(text: object) -> str | None:
    """Why ``text`` cannot be an event identifier, or None when it can."""
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return "must be an identifier (A-Z, a-z, 0-9, _ . : -, at most 80 characters), not free text"
    for m in _IPV4.finditer(text):
        if all(int(octet) <= 255 for octet in m.groups()):
            return "looks like an IP address"
    for run in _IPV6_RUN.findall(text):
        try:
            ipaddress.IPv6Address(run.strip("."))
            return "looks like an IP address"
        except ValueError:
            pass
    if _MAC.search(text):
        return "looks like a device (MAC) address"
    if _EMAIL.search(text):
        return "looks like an e-mail address"
    return None


def number_range(name: str, method: str | None) -> tuple[float, float]:
    """The values ``name`` (a :data:`NUMBER_FIELDS` field) may take for events of ``method``."""
    if name == "dwell_s":
        return DWELL_RANGE
    return SCORE_RANGES.get(method or "", (0.0, 1.0))


def make_event(ts: datetime, type: str, session: str, fields: dict[str, object]) -> Event:
    """An :class:`Event`, or ValueError naming what is not allowed (unknown type or field, a text
    that is not an identifier or looks like an IP or e-mail address, a number that is not finite
    or out of its range)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if problem := identifier_problem(session):
        raise ValueError(f"session {problem}")
    values: dict[str, object] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in TEXT_FIELDS:
            value = str(value)  # StrEnum members (methods) become their plain value
            if problem := identifier_problem(value):
                raise ValueError(f"{name} {problem}")
        elif name not in NUMBER_FIELDS:
            raise ValueError(f"field {name!r} is not part of an event")
        values[name] = value
    for name in NUMBER_FIELDS:  # after the texts: the score's range depends on the method
        if name not in values:
            continue
        value = values[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number")
        lo, hi = number_range(name, values.get("method"))  # type: ignore[arg-type]  # a str, checked above
        if not lo <= value <= hi:
            raise ValueError(f"{name} must be between {lo:g} and {hi:g}")
        values[name] = round(float(value), 4)
    return Event(ts, session, type, **values)  # type: ignore[arg-type]  # checked above
