"""``python -m smartlens bench events``: how fast one lens writes events, and how fast the
dashboard's queries answer over 1 and 10 million synthetic events (with the guides' titles, as
the dashboard asks them, and once more as an export that hides small groups)."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..analytics import privacy, stats, store
from ..analytics.events import EventLog
from ..analytics.titles import Title
from ..config import Settings
from .timing import table

#: One visit's events, in order (the synthetic store repeats it with varied artworks and times).
VISIT = (
    "session_start",
    "artwork_recognised",
    "detail_recognised",
    "detail_opened",
    "audio_played",
    "artwork_left",
    "artwork_recognised",
    "detail_recognised",
    "artwork_left",
    "artwork_recognised",
    "tts_played",
    "artwork_left",
)


def write_rate(seconds: float) -> dict[str, Any]:
    """Two figures for one lens process: the cost of ``log()`` (the lens' side), and how many
    events per second its writer thread turns into fsync'ed JSON lines (the disk's side)."""
    folder = Path(tempfile.mkdtemp(prefix="smartlens-bench-events-"))
    try:
        log = EventLog(folder, capacity=5_000_000, segment_bytes=1 << 40, segment_seconds=1e9)
        log._stop.set()  # the writer thread idles while the queue fills: each side timed alone
        log._thread.join()
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < seconds:
            for _ in range(1000):
                log.log(
                    "artwork_recognised",
                    "0123456789abcdef",
                    guide="paintings",
                    language="en",
                    method="retrieval",
                    artwork="mona-lisa",
                    score=0.81,
                )
            n += 1000
        log_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        while log._queue.qsize():  # batches of about one second's worth, as the thread writes them
            log._write([log._queue.get_nowait() for _ in range(min(20_000, log._queue.qsize()))])
        write_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        log.close()  # converts the segment to Parquet
        convert_s = time.perf_counter() - t0
        st = log.status()
        stored = store.count(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "logged": n,
        "log_us": round(log_s / n * 1e6, 2),
        "stored": stored,
        "dropped": st.dropped + st.failed,
        "write_per_s": round(n / write_s),
        "convert_per_s": round(n / convert_s),
    }


def yardstick_ms(n: int = 100_000) -> float:
    """JSON-encoding ``n`` small dicts in plain Python: this machine's speed right now."""
    row = {"ts": "2024-05-01 10:00:00.000000", "session": "0123456789abcdef", "type": "artwork_recognised"}
    t0 = time.perf_counter()
    for _ in range(n):
        json.dumps(row)
    return round((time.perf_counter() - t0) * 1000, 1)


def synthesize(folder: Path, events: int, files: int = 8, open_segment: int = 20_000) -> float:
    """A store of ``events`` synthetic events (Parquet files as compaction leaves them, plus one
    JSON-lines segment as a lens leaves it) made by DuckDB itself; returns seconds taken."""
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    con = store._connect()
    visit = "[" + ", ".join(f"'{t}'" for t in VISIT) + "]"
    per = len(VISIT)
    start = datetime(2025, 1, 1, 9)
    rows = f"""
        SELECT TIMESTAMP '{start.isoformat(sep=" ")}'
                 + to_days(CAST(s % 180 AS INTEGER)) + to_seconds(CAST((s * 7919) % 32400 + k * 40 AS BIGINT)) AS ts,
               printf('%016x', hash(s, 'session') % 1000000000000) AS session,
               {visit}[k + 1] AS type,
               'guide-' || (s % 3) AS guide,
               ['en', 'it', 'fr', 'de'][CAST(hash(s, 'lang') % 4 AS INTEGER) + 1] AS language,
               ['retrieval', 'classification', 'detection'][CAST(hash(s, 'method') % 3 AS INTEGER) + 1] AS method,
               CASE WHEN k = 0 THEN NULL
                    ELSE 'art-' || CAST(floor(40 * pow((hash(s, k // 4) % 1000) / 1000.0, 2)) AS INTEGER)
               END AS artwork,
               CASE WHEN {visit}[k + 1] IN ('detail_recognised', 'detail_opened', 'audio_played', 'tts_played')
                    THEN 'detail-' || (hash(s, k, 'd') % 6) END AS detail,
               CASE WHEN {visit}[k + 1] = 'artwork_recognised' THEN 0.5 + (hash(s, k) % 50) / 100.0 END AS score,
               CASE WHEN {visit}[k + 1] = 'artwork_left' THEN 3 + (hash(s, k) % 120) END::DOUBLE AS dwell_s
        FROM (SELECT i // {per} AS s, i % {per} AS k FROM range({{lo}}, {{hi}}) t(i))"""
    parquet_n = events - min(open_segment, events // 10)
    bounds = np.linspace(0, parquet_n, files + 1).astype(int)
    for j in range(files):
        sql = rows.format(lo=bounds[j], hi=bounds[j + 1]) + " ORDER BY ts"
        store.write_parquet(con, sql, folder / f"c-{j:04d}-000000.parquet", [])
    tail = rows.format(lo=parquet_n, hi=events)
    con.execute(f"COPY ({tail}) TO '{folder / 'w0000bench-000001.jsonl'}' (FORMAT json)")
    return time.perf_counter() - t0


#: Titles of the synthetic guides' works, as a museum's guides give them (the works table lists
#: every one, framed or not).
TITLES = tuple(
    Title(f"guide-{g}", f"art-{a}", None, f"Synthetic artwork number {a} of guide {g}", a)
    for g in range(3)
    for a in range(40)
)


def query_times(folder: Path, repeat: int = 3) -> dict[str, float]:
    """Median seconds of each dashboard query over the store (a fresh listing each time), of the
    whole dashboard (one listing, every query) and of the same figures as an export (groups under
    :data:`.privacy.MIN_GROUP` visits hidden)."""
    out: dict[str, float] = {}
    options = stats.Options(TITLES)

    def timed(**kwargs) -> float:
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            stats.figures(folder, **kwargs)
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    for name in stats.QUERIES:
        out[name] = timed(names=[name], options=options)
    one = stats.Filters(guide="guide-1")
    out["dashboard (all, one guide)"] = timed(filters=one, options=options)
    export = stats.Options(TITLES, min_group=privacy.MIN_GROUP)
    out["export of the figures, k = 5 (all, one guide)"] = timed(filters=one, options=export)
    return out


def run(sizes: list[int], write_seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"yardstick_json_100k_ms": yardstick_ms(), "write": write_rate(write_seconds)}
    queries: dict[str, dict[str, float]] = {}
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix="smartlens-bench-store-"))
        try:
            made = synthesize(folder, n)
            size = sum(p.stat().st_size for p in folder.iterdir())
            result[f"store_{n}"] = {
                "seconds_to_make": round(made, 1),
                "mb": round(size / 1e6, 1),
                "counted": store.count(folder),
            }
            queries[str(n)] = query_times(folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    result["queries_s"] = queries
    result["yardstick_json_100k_ms_after"] = yardstick_ms()
    return result


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench events``: print the tables (and write JSON with ``--json``)."""
    sizes = [int(float(s)) for s in str(args.events).split(",") if s.strip()]
    r = run(sizes, args.write_seconds)
    w = r["write"]
    print(
        f"bench events, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; yardstick (json.dumps of 100k rows): "
        f"{r['yardstick_json_100k_ms']} ms before, {r['yardstick_json_100k_ms_after']} ms after"
    )
    print(
        f"one writer: log() {w['log_us']} us per call (lens side); writer thread {w['write_per_s']:,} events/s "
        f"to fsync'ed JSON lines, Parquet conversion {w['convert_per_s']:,} events/s; "
        f"{w['stored']:,} of {w['logged']:,} stored, {w['dropped']} dropped"
    )
    for n in sizes:
        s = r[f"store_{n}"]
        print(
            f"store of {n:,} events: made in {s['seconds_to_make']} s, {s['mb']} MB, {s['counted']:,} counted"
        )
    names = list(next(iter(r["queries_s"].values()), {}))
    rows = [
        {"query": q, **{f"{int(n):,} events (s)": f"{t[q]:.3f}" for n, t in r["queries_s"].items()}}
        for q in names
    ]
    print(table(rows, ["query", *[f"{int(n):,} events (s)" for n in r["queries_s"]]]))
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2), encoding="utf-8")
    return 0
