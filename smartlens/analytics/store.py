"""The event store on disk: segment files written by many processes, read and compacted by any.

Layout of ``settings.events_dir``::

    <writer>-<seq>.jsonl     a lens process' open (or crashed) segment, appended to every second
    <writer>-<seq>.parquet   the same events once the segment was closed and converted
    c-<time>-<rand>.parquet  the merge of older files by :func:`compact`
    writers/<writer>.lock    held (flock) by a live writer; free once it exits or is killed
    writers/<writer>.json    that writer's counts (written, dropped, failed, last error)
    .<file>.<rand>.part      a Parquet file being written (a conversion's or a merge's), renamed
                             into place when complete; one whose maker was killed is a leftover

Nobody takes a lock a writer waits on. Each writer appends only to its own segments. A Parquet
file that replaces other files (a conversion or a merge) lists them in its key-value metadata
(``replaces``) and appears in one rename, after which its inputs are deleted: a reader that
sees the new file ignores the files it replaces, a reader that does not still reads the inputs,
so every event is read exactly once; a reader whose files vanish under it (deleted inputs) lists
the folder again and retries. Only one compaction runs at a time (a non-blocking flock on
``.compact.lock``), so two merges never copy the same event; it takes Parquet files and the
segments of dead writers only (a free writer lock), never a live writer's. It also deletes what
killed conversions and merges left (:func:`leftovers`), which ``events status`` reports.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..storage import try_flock
from .schema import COLUMN_TYPES, COLUMNS

log = logging.getLogger("smartlens.events")

_SEGMENT = re.compile(r"^(?P<writer>w[0-9a-f]+)-(?P<seq>\d+)\.(?P<ext>jsonl|parquet)$")
_MERGED = re.compile(r"^c-[0-9]+-[0-9a-f]+\.parquet$")
#: ``.<name>.<rand>.part``: :func:`write_parquet`'s file before its rename (``<name>`` a merge's
#: ``c-...parquet`` or a writer's ``w...-<seq>.parquet``), or a writer's counts in ``writers/``
_PART = re.compile(r"^\.(?P<name>.+?)(\.[0-9a-f]+)?\.part$")
WRITERS = "writers"
COMPACT_LOCK = ".compact.lock"
RETRIES = 8


@dataclass(frozen=True)
class Snapshot:
    """The files that hold every stored event exactly once, at one moment."""

    folder: Path
    parquet: list[Path] = field(default_factory=list)
    jsonl: list[Path] = field(default_factory=list)
    #: Files still on disk whose events a newer Parquet file already holds.
    superseded: list[Path] = field(default_factory=list)
    replaces: dict[str, list[str]] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return self.parquet + self.jsonl


_BASE: Any = None
_BASE_LOCK = threading.Lock()


def _connect():
    """A fresh connection (its own temp views and settings) to one in-memory database per
    process: opening a database costs ~100 ms on a busy machine, a cursor next to nothing."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            import duckdb

            _BASE = duckdb.connect()
        return _BASE.cursor()


def _list(items: list[Path]) -> str:
    return "[" + ", ".join(_quote(str(p)) for p in items) + "]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_JSON_COLUMNS = "{" + ", ".join(f"{_quote(k)}: {_quote(v)}" for k, v in COLUMN_TYPES.items()) + "}"
_SELECT = ", ".join(COLUMNS)


def union_sql(parquet: list[Path], jsonl: list[Path]) -> str:
    """SQL that reads these files as one table of events (a torn last JSON line is skipped)."""
    parts = []
    if parquet:
        parts.append(f"SELECT {_SELECT} FROM read_parquet({_list(parquet)})")
    if jsonl:
        parts.append(
            f"SELECT {_SELECT} FROM read_json({_list(jsonl)}, columns = {_JSON_COLUMNS}, "
            "format = 'newline_delimited', ignore_errors = true) "
            "WHERE ts IS NOT NULL AND session IS NOT NULL AND type IS NOT NULL"
        )
    if not parts:
        types = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in COLUMN_TYPES.items())
        return f"SELECT {types} WHERE false"
    return " UNION ALL ".join(parts)


def snapshot(folder: Path, con: Any = None) -> Snapshot:
    """List the store once and drop the files a newer Parquet file replaces."""
    folder = Path(folder)
    if not folder.is_dir():
        return Snapshot(folder)
    names = sorted(
        n for n in os.listdir(folder) if not n.startswith(".") and n.endswith((".parquet", ".jsonl"))
    )
    parquet = [n for n in names if n.endswith(".parquet")]
    replaces: dict[str, list[str]] = {}
    if parquet:
        own = con is None
        con = con or _connect()
        try:
            rows = con.execute(
                "SELECT file_name, decode(value) FROM parquet_kv_metadata(?) WHERE decode(key) = 'replaces'",
                [[str(folder / n) for n in parquet]],
            ).fetchall()
        finally:
            if own:
                con.close()
        replaces = {Path(f).name: json.loads(v) for f, v in rows}
    gone = {n for names_ in replaces.values() for n in names_}
    live = [n for n in names if n not in gone]
    return Snapshot(
        folder,
        [folder / n for n in live if n.endswith(".parquet")],
        [folder / n for n in live if n.endswith(".jsonl")],
        [folder / n for n in names if n in gone],
        replaces,
    )


def _is_vanished_file(exc: Exception) -> bool:
    """True for the errors a reader gets when a compaction deleted a file it had listed."""
    text = str(exc)
    return "No files found" in text or "No such file" in text or "Could not open" in text


def with_snapshot(folder: Path, work, con: Any = None):
    """``work(con, snapshot)`` on a fresh listing, again if files vanished meanwhile."""
    own = con is None
    con = con or _connect()
    try:
        for attempt in range(RETRIES):
            try:
                return work(con, snapshot(folder, con))
            except Exception as exc:  # duckdb.IOException & co. for a file deleted under us
                if not _is_vanished_file(exc) or attempt == RETRIES - 1:
                    raise
                time.sleep(0.02 * (attempt + 1))
    finally:
        if own:
            con.close()


def count(folder: Path) -> int:
    """How many events the store holds."""
    return int(
        with_snapshot(
            folder,
            lambda con, s: con.execute(f"SELECT count(*) FROM ({union_sql(s.parquet, s.jsonl)})").fetchone()[
                0
            ],
        )
    )


# --- writer liveness -----------------------------------------------------------------------------
def new_writer_id() -> str:
    return "w" + secrets.token_hex(6)


def hold_writer_lock(folder: Path, writer: str) -> int:
    """Create and lock ``writers/<writer>.lock`` for this process' lifetime; returns its fd.

    The kernel frees the lock when the process dies, however it dies: that is how a
    compaction tells a crashed writer's segments (safe to merge) from a live one's."""
    path = Path(folder) / WRITERS / f"{writer}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # a compaction may have unlinked the file between our open and our lock
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def writer_is_live(folder: Path, writer: str) -> bool:
    path = Path(folder) / WRITERS / f"{writer}.lock"
    if not path.exists():
        return False
    with try_flock(path) as got:
        return not got


def writer_of(path: Path) -> str | None:
    m = _SEGMENT.match(path.name)
    return m["writer"] if m else None


def segment_name(writer: str, seq: int, ext: str) -> str:
    return f"{writer}-{seq:06d}.{ext}"


# --- writing Parquet atomically --------------------------------------------------------------------
def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_parquet(con: Any, select_sql: str, dest: Path, replaces: list[str]) -> int:
    """Write ``select_sql``'s rows to ``dest`` in one rename, naming the files it replaces;
    returns the number of rows."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(3)}.part")
    meta = _quote(json.dumps(sorted(set(replaces))))
    try:
        n = con.execute(
            f"COPY ({select_sql}) TO {_quote(str(tmp))} "
            f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880, KV_METADATA {{replaces: {meta}}})"
        ).fetchone()[0]
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return int(n)


def convert_segment(folder: Path, segment: Path, con: Any = None) -> Path:
    """Turn one closed JSON-lines segment into Parquet, then delete it."""
    dest = segment.with_suffix(".parquet")
    own = con is None
    con = con or _connect()
    try:
        write_parquet(con, union_sql([], [segment]) + " ORDER BY ts", dest, [segment.name])
    finally:
        if own:
            con.close()
    segment.unlink(missing_ok=True)
    return dest


# --- compaction and retention -----------------------------------------------------------------------
@dataclass
class CompactResult:
    merged: int = 0  # input files merged
    events: int = 0  # events in the merged file
    pruned: int = 0  # events deleted by retention
    removed: int = 0  # files deleted
    output: Path | None = None
    busy: bool = False  # another compaction was running: nothing done
    read_only: bool = False  # the folder cannot be written: nothing done
    leftovers: int = 0  # files of killed conversions or merges deleted (also counted in ``removed``)
    seconds: float = 0.0


def compact(
    folder: Path,
    retention_days: int = 0,
    max_file_bytes: int = 32 << 20,
    now: datetime | None = None,
    min_files: int = 2,
) -> CompactResult:
    """Merge small Parquet files and dead writers' segments into one Parquet file, dropping
    events older than ``retention_days`` (0 keeps all). Never loses or duplicates an event:
    the merged file replaces its inputs in one rename and they are deleted only afterwards.

    Files of ``max_file_bytes`` or more (about three million events) are left as they are
    unless they hold expired events, so a compaction's cost stays bounded as the store grows."""
    t0 = time.perf_counter()
    folder = Path(folder)
    result = CompactResult()
    if not folder.is_dir():
        return result
    if not os.access(folder, os.W_OK | os.X_OK):  # also EROFS for root, whom modes do not stop
        result.read_only = True
        return result
    with try_flock(folder / COMPACT_LOCK) as got:
        if not got:
            result.busy = True
            return result
        for p in leftovers(folder, compacting=True):
            p.unlink(missing_ok=True)
            result.leftovers += 1
            result.removed += 1
        con = _connect()
        try:
            _compact_locked(con, folder, retention_days, max_file_bytes, now, min_files, result)
        finally:
            con.close()
        _forget_dead_writers(folder)
    result.seconds = time.perf_counter() - t0
    return result


def _compact_locked(con, folder, retention_days, max_file_bytes, now, min_files, result) -> None:
    snap = with_snapshot(folder, lambda c, s: s, con)
    for p in snap.superseded:  # leftovers of a conversion or merge killed before its clean-up
        p.unlink(missing_ok=True)
        result.removed += 1
    cutoff = None
    if retention_days and retention_days > 0:
        cutoff = (now or datetime.now(UTC).replace(tzinfo=None)) - timedelta(days=retention_days)
    live_writers: dict[str, bool] = {}

    def dead(p: Path) -> bool:
        w = writer_of(p)
        if w is None:
            return True
        if w not in live_writers:
            live_writers[w] = writer_is_live(folder, w)
        return not live_writers[w]

    jsonl = [p for p in snap.jsonl if dead(p)]
    parquet = [p for p in snap.parquet if p.stat().st_size < max_file_bytes]
    if cutoff is not None:  # big files holding expired events are rewritten too
        big = [p for p in snap.parquet if p not in parquet]
        if big:
            rows = con.execute(
                "SELECT filename, min(ts) FROM read_parquet(?, filename = true) GROUP BY filename",
                [[str(p) for p in big]],
            ).fetchall()
            old = {Path(f).name for f, t in rows if t is not None and t < cutoff}
            parquet += [p for p in big if p.name in old]
    inputs = parquet + jsonl
    if not inputs or (len(inputs) < min_files and not jsonl and cutoff is None):
        return
    where = f" WHERE ts >= TIMESTAMP {_quote(cutoff.isoformat(sep=' '))}" if cutoff is not None else ""
    source = union_sql(parquet, jsonl)
    total = con.execute(f"SELECT count(*) FROM ({source})").fetchone()[0]
    if cutoff is not None and len(inputs) == 1 and not jsonl:
        kept = con.execute(f"SELECT count(*) FROM ({source}){where}").fetchone()[0]
        if kept == total:
            return  # a single file with nothing expired: nothing to do
    # the new file also replaces what its inputs replaced, where any of that is still on disk
    replaces = {p.name for p in inputs}
    for p in parquet:
        replaces |= {n for n in snap.replaces.get(p.name, []) if (folder / n).exists()}
    dest = folder / f"c-{time.time_ns()}-{secrets.token_hex(3)}.parquet"
    result.events = write_parquet(con, f"SELECT * FROM ({source}){where} ORDER BY ts", dest, sorted(replaces))
    result.output, result.merged, result.pruned = dest, len(inputs), int(total) - result.events
    for name in sorted(replaces):
        (folder / name).unlink(missing_ok=True)
        result.removed += 1


def leftovers(folder: Path, compacting: bool = False) -> list[Path]:
    """Half-written files whose maker is gone: a merge's ``.part`` (no compaction holds the lock,
    or this process does: ``compacting``) and a conversion's or a counts file's ``.part`` of a
    dead writer. A superseded input (see :class:`Snapshot`) is not listed: readers skip it and
    the next compaction deletes it."""
    folder = Path(folder)
    found: list[Path] = []
    merging: bool | None = None if not compacting else False
    live: dict[str, bool] = {}
    for place in (folder, folder / WRITERS):
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        for name in names:
            m = _PART.match(name)
            if m is None:
                continue
            made_by = m["name"]
            if _MERGED.match(made_by):
                if merging is None:
                    with try_flock(folder / COMPACT_LOCK) as got:
                        merging = not got
                if merging:
                    continue
            else:
                writer = re.match(r"w[0-9a-f]+", made_by)
                if writer is None:
                    continue  # not a name this store makes: not ours to delete
                if writer[0] not in live:
                    live[writer[0]] = writer_is_live(folder, writer[0])
                if live[writer[0]]:
                    continue
            found.append(place / name)
    return found


def _forget_dead_writers(folder: Path) -> None:
    """Remove the lock and counts of crashed writers whose segments are all merged."""
    for writer in sorted({p.stem for p in (folder / WRITERS).glob("w*.*")}):
        lock = folder / WRITERS / f"{writer}.lock"
        if any(folder.glob(f"{writer}-*.jsonl")) or not (lock.exists() or lock.with_suffix(".json").exists()):
            continue
        with try_flock(lock) as got:
            if got:  # free: unlink while holding it (a writer re-checks the inode after locking)
                lock.unlink(missing_ok=True)
                lock.with_suffix(".json").unlink(missing_ok=True)


# --- health, for the studio -------------------------------------------------------------------------
@dataclass
class StoreHealth:
    folder: Path
    writable: bool
    problem: str | None
    files: int
    bytes: int
    free_bytes: int | None
    writers: list[dict] = field(default_factory=list)  # each live or crashed writer's counts
    #: files killed conversions or merges left (:func:`leftovers`), and superseded inputs
    leftovers: list[Path] = field(default_factory=list)

    @property
    def leftover_bytes(self) -> int:
        return sum(_size(p) for p in self.leftovers)

    @property
    def dropped(self) -> int:
        return sum(int(w.get("dropped", 0)) + int(w.get("failed", 0)) for w in self.writers)


def health(folder: Path) -> StoreHealth:
    """Whether the store can be written, how big it is, and what each writer reported."""
    import shutil

    folder = Path(folder)
    problem = None
    probe = folder if folder.exists() else folder.parent
    writable = probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
    if not writable:
        problem = f"{folder} cannot be written (missing or read-only)"
    free = None
    try:
        free = shutil.disk_usage(probe if probe.exists() else Path("/")).free
        if free < 50 << 20:
            problem = f"only {free >> 20} MiB free on the disk of {folder}"
    except OSError:
        pass
    files = [p for p in folder.glob("*") if p.suffix in {".parquet", ".jsonl"}] if folder.is_dir() else []
    writers = []
    for status in sorted((folder / WRITERS).glob("*.json")) if folder.is_dir() else []:
        try:
            info = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        info["writer"] = status.stem
        info["live"] = writer_is_live(folder, status.stem)
        writers.append(info)
        if info.get("error") and info["live"] and problem is None:
            problem = f"a lens cannot store its events: {info['error']}"
    left = leftovers(folder) + snapshot(folder).superseded if folder.is_dir() else []
    return StoreHealth(
        folder, writable, problem, len(files), sum(_size(p) for p in files), free, writers, left
    )


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0
