"""The lens' event writer: anonymous events appended to this process' own segment files.

``log()`` never blocks and never raises: events queue in memory (bounded; when full they are
dropped and counted) and a background thread appends them to a JSON-lines segment about
every second, with flush and fsync, so a killed lens loses at most that last second. Segments
are rotated by size and age and converted to Parquet; see :mod:`.store` for how many writers,
readers and compactions share the folder without locks. When the folder cannot be written
(missing, read-only, full disk) the events are counted as failed, the error is logged and kept
in :meth:`EventLog.status` (and in ``writers/<id>.json`` for the studio), never silently lost.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config import Settings
from . import store
from .schema import COLUMNS, EVENT_TYPES, Event, make_event, new_session_id

__all__ = ["COLUMNS", "EVENT_TYPES", "Event", "EventLog", "WriterStatus", "new_session_id", "open_event_log"]

log = logging.getLogger("smartlens.events")


@dataclass(frozen=True)
class WriterStatus:
    """What a writer has done so far; ``error`` is set while the store cannot be written."""

    writer: str
    written: int
    dropped: int  # queue full: the lens produced events faster than the disk took them
    failed: int  # could not be written (folder missing or read-only, disk full)
    refused: int  # not an event (unknown type or field, free text)
    pending: int
    error: str | None

    @property
    def ok(self) -> bool:
        return self.error is None


class EventLog:
    """A background writer of :class:`Event` rows into the store folder ``folder``."""

    def __init__(
        self,
        folder: Path,
        flush_every: float = 1.0,
        capacity: int = 10_000,
        segment_bytes: int = 8 << 20,
        segment_seconds: float = 900.0,
        compact_every_s: float | None = None,
        retention_days: int = 0,
    ):
        self.folder = Path(folder)
        self.flush_every, self.segment_bytes, self.segment_seconds = (
            flush_every,
            segment_bytes,
            segment_seconds,
        )
        self.compact_every_s, self.retention_days = compact_every_s, retention_days
        self.writer = store.new_writer_id()
        self.written = self.dropped = self.failed = self.refused = 0
        self.error: str | None = None
        self._queue: queue.Queue[Event] = queue.Queue(capacity)
        self._lock_fd: int | None = None
        self._fd: int | None = None
        self._seq = 0
        self._segment: Path | None = None
        self._opened = 0.0
        self._size = 0
        self._last_compact = time.monotonic()
        self._last_status = 0.0
        self._io = threading.Lock()  # the writer thread and flush()/close() callers
        self._stop = threading.Event()
        # closed segments go to Parquet in their own thread, so flushes never wait for it
        self._closed: queue.Queue[Path | None] = queue.Queue()
        self._converter = threading.Thread(
            target=self._convert_closed, name="smartlens-events-convert", daemon=True
        )
        self._converter.start()
        self._thread = threading.Thread(target=self._run, name="smartlens-events", daemon=True)
        self._thread.start()
        atexit.register(self.close)  # events queued at shutdown still reach the disk

    # --- the lens' side -------------------------------------------------------------------------
    def log(self, type: str, session: str, **fields: object) -> None:
        """Queue one event (never blocks, never raises)."""
        try:
            event = make_event(datetime.now(UTC).replace(tzinfo=None), type, session, fields)
        except (ValueError, TypeError) as exc:  # not an event, or a field that could carry personal data
            self.refused += 1
            log.warning("event %s refused: %s", type, exc)
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1

    def status(self) -> WriterStatus:
        return WriterStatus(
            self.writer,
            self.written,
            self.dropped,
            self.failed,
            self.refused,
            self._queue.qsize(),
            self.error,
        )

    # --- the writer thread ------------------------------------------------------------------------
    def _drain(self) -> list[Event]:
        batch = []
        while True:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                return batch

    def _open_segment(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        lock = self.folder / store.WRITERS / f"{self.writer}.lock"
        if self._lock_fd is not None and not _same_file(self._lock_fd, lock):  # folder was replaced
            os.close(self._lock_fd)
            self._lock_fd = None
        if self._lock_fd is None:
            self._lock_fd = store.hold_writer_lock(self.folder, self.writer)
        self._seq += 1
        self._segment = self.folder / store.segment_name(self.writer, self._seq, "jsonl")
        self._fd = os.open(self._segment, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._opened, self._size = time.monotonic(), 0

    def _close_segment(self, convert: bool) -> None:
        """Close the current segment; convert it to Parquet when it holds anything."""
        if self._fd is None:
            return
        os.close(self._fd)
        segment, size = self._segment, self._size
        self._fd = self._segment = None
        if segment is None:
            return
        if size == 0:
            segment.unlink(missing_ok=True)
        elif convert:
            self._closed.put(segment)

    def _convert_closed(self) -> None:
        while (segment := self._closed.get()) is not None:
            try:
                store.convert_segment(self.folder, segment)
            except Exception as exc:  # the JSON-lines segment stays readable; compaction takes it later
                log.warning("could not convert %s to Parquet: %s", segment.name, exc)
            finally:
                self._closed.task_done()

    def _converter_idle(self) -> None:
        """Wait until the closed segments handed over so far are converted (tests)."""
        self._closed.join()

    def _write(self, batch: list[Event]) -> None:
        if not batch:
            return
        data = "".join(_line(e) for e in batch).encode("utf-8")
        with self._io:
            try:
                if self._fd is None:
                    self._open_segment()
                assert self._fd is not None
                view = memoryview(data)
                while view:  # a short write (disk nearly full) goes on where it stopped
                    view = view[os.write(self._fd, view) :]
                os.fsync(self._fd)
                self._size += len(data)
                self.written += len(batch)
                if self.error is not None:
                    log.warning("events are stored again in %s", self.folder)
                self.error = None
            except OSError as exc:
                self.failed += len(batch)
                if self.error is None:
                    log.error("could not store %d visitor events in %s: %s", len(batch), self.folder, exc)
                self.error = f"{type(exc).__name__}: {exc.strerror or exc}"
                # never append after a torn write: the next batch starts a fresh segment (readers
                # skip a torn last line, so what this one holds stays readable)
                try:
                    self._close_segment(convert=True)
                except OSError:
                    self._fd = self._segment = None
                return
            if self._size >= self.segment_bytes or time.monotonic() - self._opened >= self.segment_seconds:
                self._close_segment(convert=True)

    def _maybe_compact(self) -> None:
        if self.compact_every_s is None or time.monotonic() - self._last_compact < self.compact_every_s:
            return
        self._last_compact = time.monotonic()
        threading.Thread(target=self._compact, name="smartlens-events-compact", daemon=True).start()

    def _compact(self) -> None:
        try:
            store.compact(self.folder, self.retention_days)
        except Exception as exc:  # a merge that failed leaves every input in place
            log.warning("event compaction failed: %s", exc)

    def _save_status(self, force: bool = False) -> None:
        """Leave this writer's counts where the studio can read them (best effort)."""
        if self._lock_fd is None or (not force and time.monotonic() - self._last_status < 10):
            return  # nothing written yet (or just now): nothing to tell
        self._last_status = time.monotonic()
        path = self.folder / store.WRITERS / f"{self.writer}.json"
        info = asdict(self.status()) | {"updated": datetime.now(UTC).isoformat(timespec="seconds")}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.part")
            tmp.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass  # the same failure is already counted and logged by _write

    def _run(self) -> None:
        while not self._stop.wait(self.flush_every):
            self._write(self._drain())
            if self._fd is not None and time.monotonic() - self._opened >= self.segment_seconds:
                with self._io:
                    self._close_segment(convert=True)
            self._save_status()
            self._maybe_compact()
        self._write(self._drain())

    def flush(self) -> None:
        """Write everything queued so far (for tests and shutdown)."""
        self._write(self._drain())

    def close(self) -> None:
        """Write what is queued, convert the open segment and release the writer lock."""
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join(timeout=10)
        self.flush()
        with self._io:
            try:
                self._close_segment(convert=True)
            except OSError:
                pass
            if self._converter.is_alive():
                self._closed.put(None)
                self._converter.join(timeout=30)
            if self._lock_fd is not None:
                try:
                    os.unlink(self.folder / store.WRITERS / f"{self.writer}.lock")
                    os.unlink(self.folder / store.WRITERS / f"{self.writer}.json")
                except OSError:
                    pass
                os.close(self._lock_fd)
                self._lock_fd = None


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == os.stat(path).st_ino
    except OSError:
        return False


def _line(e: Event) -> str:
    row: dict[str, object] = {"ts": e.ts.isoformat(sep=" ", timespec="microseconds")}
    for name in COLUMNS[1:]:  # dataclasses.asdict deep-copies: ten times slower
        value = getattr(e, name)
        if value is not None:
            row[name] = value
    return _ENCODE(row) + "\n"


_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def open_event_log(settings: Settings) -> EventLog:
    """The lens process' one event writer (compacting now and then, with the retention setting)."""
    return EventLog(settings.events_dir, compact_every_s=600.0, retention_days=settings.event_retention_days)


def read_events(folder: Path) -> list[dict]:
    """All stored events as dicts, oldest first (small data: tests; the studio uses SQL)."""
    sql = f"SELECT {', '.join(COLUMNS)} FROM ({{}}) ORDER BY ts"

    def work(con, snap):
        return con.execute(sql.format(store.union_sql(snap.parquet, snap.jsonl))).fetchall()

    return [dict(zip(COLUMNS, r)) for r in store.with_snapshot(Path(folder), work)]
