"""What one visitor event is: its types, its anonymous fields and their checks.

An event says what happened (a visit started, an artwork or detail was recognised or left, a
detail opened, audio / video / read-aloud played), in which guide, language and method, when,
by which random short-lived session id, and with the recogniser's score or the seconds an
artwork stayed framed. Nothing else: no IP address, no user agent, no free text. Every text
field must be an identifier (guide, artwork and detail ids, language and method codes), so a
visitor's words can never reach the store.
"""

from __future__ import annotations

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
_ID = re.compile(r"^[\w.:-]{1,80}$")


def new_session_id() -> str:
    """A random id for one visit: links a visit's events, identifies nobody."""
    return uuid.uuid4().hex[:16]


def make_event(ts: datetime, type: str, session: str, fields: dict[str, object]) -> Event:
    """An :class:`Event`, or ValueError naming what is not allowed (unknown type or field,
    a text that is not an identifier, a number that is not finite)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    if not isinstance(session, str) or not _ID.match(session):
        raise ValueError("session must be an identifier")
    values: dict[str, object] = {}
    for name, value in fields.items():
        if value is None:
            continue
        if name in TEXT_FIELDS:
            value = str(value)  # StrEnum members (methods) become their plain value
            if not _ID.match(value):
                raise ValueError(f"{name} must be an identifier, not free text")
        elif name in NUMBER_FIELDS:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number")
            value = round(float(value), 4)
        else:
            raise ValueError(f"field {name!r} is not part of an event")
        values[name] = value
    return Event(ts, session, type, **values)  # type: ignore[arg-type]  # checked above
