"""Anonymous usage events, written to a DuckDB file in the background.

An event is what happened (a session started, an artwork or detail was recognised, a detail
opened, audio / video / read-aloud played), in which guide, language and method, when, and
by which random session id. Nothing else: no IP address, no device or browser details.

``log()`` never blocks and never raises: events queue in memory and a writer thread inserts
them in batches, opening the database only for each batch so other processes (the studio's
charts) can read it in between. If the queue is full, events are dropped and counted rather
than slowing the video loop.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
import uuid
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("smartlens.events")

EVENT_TYPES = (
    "session_start",
    "artwork_recognised",
    "detail_recognised",
    "detail_opened",
    "audio_played",
    "video_played",
    "tts_played",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    ts TIMESTAMP NOT NULL,
    session VARCHAR NOT NULL,
    type VARCHAR NOT NULL,
    guide VARCHAR,
    language VARCHAR,
    method VARCHAR,
    artwork VARCHAR,
    detail VARCHAR
)
"""


@dataclass(frozen=True)
class Event:
    ts: datetime
    session: str
    type: str
    guide: str | None = None
    language: str | None = None
    method: str | None = None
    artwork: str | None = None
    detail: str | None = None


COLUMNS = tuple(f.name for f in fields(Event))


def new_session_id() -> str:
    """A random id for one visit: links a visit's events, identifies nobody."""
    return uuid.uuid4().hex


def connect(path: Path, read_only: bool = False, retries: int = 50):
    """A DuckDB connection, waiting briefly if another process holds the file."""
    import duckdb

    for attempt in range(retries):
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException:  # locked by a writer in another process
            if attempt == retries - 1:
                raise
            time.sleep(0.05)
    raise RuntimeError("unreachable")


class EventLog:
    """A background writer of :class:`Event` rows into ``path`` (a DuckDB file)."""

    def __init__(self, path: Path, flush_every: float = 1.0, capacity: int = 10_000):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # counted as dropped events later; the lens runs on
            log.warning("events folder %s unusable: %s", self.path.parent, exc)
        self.flush_every = flush_every
        self.dropped = 0
        self.written = 0
        self._queue: queue.Queue[Event] = queue.Queue(capacity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smartlens-events", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # events queued at shutdown still reach the file

    def log(self, type: str, session: str, **fields: str | None) -> None:
        """Queue one event (never blocks, never raises)."""
        if type not in EVENT_TYPES:
            log.warning("unknown event type %r ignored", type)
            return
        try:
            self._queue.put_nowait(Event(datetime.now(UTC).replace(tzinfo=None), session, type, **fields))
        except queue.Full:
            self.dropped += 1
        except TypeError as exc:  # a field that is not part of an event: refused, not stored
            log.warning("event %s refused: %s", type, exc)

    def _drain(self) -> list[Event]:
        batch = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _write(self, batch: list[Event]) -> None:
        if not batch:
            return
        try:
            con = connect(self.path)
            try:
                con.execute(SCHEMA)
                con.executemany(
                    f"INSERT INTO events VALUES ({', '.join('?' * len(COLUMNS))})",
                    [astuple(e) for e in batch],
                )
            finally:
                con.close()
            self.written += len(batch)
        except Exception as exc:  # the video loop must go on whatever the disk does (duckdb or OS errors)
            self.dropped += len(batch)
            log.warning("could not write %d events to %s: %s", len(batch), self.path, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every):
            self._write(self._drain())
        self._write(self._drain())

    def flush(self) -> None:
        """Write everything queued so far (for tests and shutdown)."""
        self._write(self._drain())

    def close(self) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=10)


def read_events(path: Path):
    """All events as a list of dicts (small data; charts use SQL in the studio)."""
    if not Path(path).is_file():
        return []
    con = connect(Path(path), read_only=True)
    try:
        rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM events ORDER BY ts").fetchall()
    finally:
        con.close()
    return [dict(zip(COLUMNS, r)) for r in rows]
