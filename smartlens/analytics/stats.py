"""Questions curators ask of the visitor events, as DuckDB SQL over the whole store.

Every figure is computed by DuckDB over one listing of the store (:func:`.store.snapshot`), in
the museum's local time (events are stored in UTC), narrowed to a guide and a date range. The
studio's dashboard and ``python -m smartlens stats`` show the same :func:`figures`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store
from .schema import COLUMNS, PLAYED

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Filters:
    """Which events count: one guide (None: all), and local days ``since``..``until`` inclusive."""

    guide: str | None = None
    since: date | None = None
    until: date | None = None
    #: Time zone for hours and days (an IANA name); None: this machine's.
    timezone: str | None = None


_PLAYED = "(" + ", ".join(f"'{t}'" for t in PLAYED) + ")"

#: name -> SQL over the view ``events`` (the store's columns; ``ts`` in UTC).
QUERIES: dict[str, str] = {
    "summary": f"""
        SELECT count(DISTINCT session) AS visits,
               count(*) FILTER (WHERE type = 'artwork_recognised') AS artworks_recognised,
               count(*) FILTER (WHERE type = 'detail_opened') AS details_opened,
               count(*) FILTER (WHERE type IN {_PLAYED}) AS media_played,
               median(dwell_s) FILTER (WHERE type = 'artwork_left') AS median_dwell_s,
               count(*) AS events
        FROM events""",
    "artworks": """
        WITH e AS (
            SELECT artwork, session, type, dwell_s FROM events
            WHERE artwork IS NOT NULL AND type IN ('artwork_recognised', 'artwork_left', 'detail_opened')),
        v AS (
            SELECT artwork, sum(n) AS views, count(*) AS visitors FROM (
                SELECT artwork, session, count(*) AS n FROM e WHERE type = 'artwork_recognised' GROUP BY ALL
            ) GROUP BY artwork),
        o AS (SELECT artwork, count(*) AS details_opened FROM e WHERE type = 'detail_opened' GROUP BY artwork),
        w AS (SELECT artwork, median(dwell_s) AS median_dwell_s FROM e WHERE type = 'artwork_left' GROUP BY artwork)
        SELECT v.artwork, CAST(views AS BIGINT) AS views, visitors, coalesce(details_opened, 0) AS details_opened,
               round(median_dwell_s, 1) AS median_dwell_s
        FROM v LEFT JOIN o USING (artwork) LEFT JOIN w USING (artwork) ORDER BY views DESC, artwork""",
    "details": f"""
        SELECT artwork, detail,
               count(*) FILTER (WHERE type = 'detail_recognised') AS recognised,
               count(*) FILTER (WHERE type = 'detail_opened') AS opened,
               count(*) FILTER (WHERE type IN {_PLAYED}) AS played
        FROM events WHERE detail IS NOT NULL AND artwork IS NOT NULL
        GROUP BY artwork, detail ORDER BY opened DESC, recognised DESC, artwork, detail""",
    # a visit is counted once, when it starts; local time is worked out per quarter of an hour, not
    # per event (time-zone rules are slow)
    "by_hour": """
        WITH q AS (
            SELECT time_bucket(INTERVAL 15 MINUTE, ts) AS q, count(*) AS visits
            FROM events WHERE type = 'session_start' GROUP BY 1)
        SELECT h.hour, CAST(coalesce(v.visits, 0) AS BIGINT) AS visits
        FROM range(24) h(hour) LEFT JOIN (
            SELECT hour(CAST(q AT TIME ZONE 'UTC' AS TIMESTAMP)) AS hour, sum(visits) AS visits FROM q GROUP BY 1
        ) v USING (hour) ORDER BY h.hour""",
    "by_day": """
        WITH q AS (
            SELECT time_bucket(INTERVAL 15 MINUTE, ts) AS q,
                   count(*) FILTER (WHERE type = 'session_start') AS visits,
                   count(*) FILTER (WHERE type = 'artwork_recognised') AS recognised
            FROM events WHERE type IN ('session_start', 'artwork_recognised') GROUP BY 1)
        SELECT CAST(CAST(q AT TIME ZONE 'UTC' AS TIMESTAMP) AS DATE) AS day, CAST(sum(visits) AS BIGINT) AS visits,
               CAST(sum(recognised) AS BIGINT) AS artworks_recognised
        FROM q GROUP BY day ORDER BY day""",
    "languages": """
        SELECT coalesce(language, '?') AS language, count(*) AS visits
        FROM events WHERE type = 'session_start' GROUP BY 1 ORDER BY visits DESC, language""",
    "methods": """
        SELECT coalesce(method, '?') AS method, count(*) AS visits
        FROM events WHERE type = 'session_start' GROUP BY 1 ORDER BY visits DESC, method""",
    "media": f"""
        SELECT type AS medium, count(*) AS times, count(DISTINCT session) AS visitors
        FROM events WHERE type IN {_PLAYED} GROUP BY type ORDER BY times DESC, medium""",
    "funnel": f"""
        WITH s AS (
            SELECT bool_or(type = 'artwork_recognised') AS r, bool_or(type = 'detail_opened') AS o,
                   bool_or(type IN {_PLAYED}) AS p
            FROM events GROUP BY session)
        SELECT * FROM (
            SELECT 1 AS step, 'visits' AS stage, count(*) AS sessions FROM s
            UNION ALL SELECT 2, 'recognised an artwork', count(*) FILTER (WHERE r) FROM s
            UNION ALL SELECT 3, 'opened a detail', count(*) FILTER (WHERE r AND o) FROM s
            UNION ALL SELECT 4, 'played audio, video or read-aloud', count(*) FILTER (WHERE r AND o AND p) FROM s
        ) ORDER BY step""",
}


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def view_sql(snap: store.Snapshot, filters: Filters) -> str:
    """The filtered events as one SELECT (local days turned into UTC bounds once, not per event)."""
    where = []
    if filters.guide:
        where.append(f"guide = {_literal(filters.guide)}")

    def utc(day: date) -> str:  # local midnight of ``day`` (the connection's TimeZone) in UTC
        return f"(CAST(TIMESTAMP {_literal(day.isoformat())} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"

    if filters.since:
        where.append(f"ts >= {utc(filters.since)}")
    if filters.until:
        where.append(f"ts < {utc(filters.until + timedelta(days=1))}")
    base = store.union_sql(snap.parquet, snap.jsonl)
    return f"SELECT * FROM ({base}) WHERE {' AND '.join(where)}" if where else f"SELECT * FROM ({base})"


def _prepare(con: Any, snap: store.Snapshot, filters: Filters) -> None:
    if filters.timezone:
        con.execute(f"SET SESSION TimeZone = {_literal(filters.timezone)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {view_sql(snap, filters)}")


def figures(
    folder: Path, filters: Filters = Filters(), names: Iterable[str] | None = None
) -> dict[str, pd.DataFrame]:
    """Each of :data:`QUERIES` (or ``names``) as a pandas DataFrame, all from one listing."""
    wanted = list(QUERIES if names is None else names)

    def work(con, snap):
        _prepare(con, snap, filters)
        return {name: con.execute(QUERIES[name]).df() for name in wanted}

    return store.with_snapshot(Path(folder), work)


def guides(folder: Path) -> list[str]:
    """The guides that have events."""

    def work(con, snap):
        sql = f"SELECT DISTINCT guide FROM ({store.union_sql(snap.parquet, snap.jsonl)}) WHERE guide IS NOT NULL"
        return sorted(r[0] for r in con.execute(sql).fetchall())

    return store.with_snapshot(Path(folder), work)


def export(folder: Path, dest: Path, filters: Filters = Filters(), fmt: str = "csv") -> int:
    """Write the filtered events (UTC ``ts``, no other derived column) as CSV or Parquet; returns
    the number of events."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown export format {fmt!r} (csv or parquet)")
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet, COMPRESSION zstd"

    def work(con, snap):
        _prepare(con, snap, filters)
        sql = (
            f"COPY (SELECT {', '.join(COLUMNS)} FROM events ORDER BY ts) TO {_literal(str(dest))} ({options})"
        )
        return int(con.execute(sql).fetchone()[0])

    return store.with_snapshot(Path(folder), work)


def export_bytes(folder: Path, filters: Filters = Filters(), fmt: str = "csv") -> bytes:
    """:func:`export` into memory, for a download button."""
    with tempfile.TemporaryDirectory(prefix="smartlens-export-") as tmp:
        dest = Path(tmp) / f"events.{fmt}"
        export(folder, dest, filters, fmt)
        return dest.read_bytes()


#: Titles of the figures, in the order the CLI prints them.
TITLES = {
    "summary": "Summary",
    "funnel": "Funnel (sessions)",
    "artworks": "Most viewed artworks",
    "details": "Details",
    "by_day": "Visits per day",
    "by_hour": "Visits per hour of day",
    "languages": "Languages",
    "methods": "Recognition methods",
    "media": "Audio, video, read-aloud",
}


def render(figs: dict[str, pd.DataFrame], fmt: str = "table") -> str:
    """The figures as text: ``table`` (titled tables), ``csv`` (``# name`` then CSV) or ``json``."""
    import json

    names = [n for n in TITLES if n in figs]
    if fmt == "json":
        out = {n: json.loads(figs[n].to_json(orient="records", date_format="iso")) for n in names}
        return json.dumps(out, indent=2)
    parts = []
    for n in names:
        df = figs[n]
        if fmt == "csv":
            parts.append(f"# {n}\n{df.to_csv(index=False).rstrip()}")
        else:
            body = (
                "(none)"
                if df.empty
                else df.to_string(index=False, na_rep="-", float_format=lambda v: f"{v:.1f}")
            )
            parts.append(f"{TITLES[n]}\n{'-' * len(TITLES[n])}\n{body}")
    return "\n\n".join(parts)


def day_span(folder: Path, guide: str | None = None, timezone: str | None = None) -> tuple[date, date] | None:
    """The first and last local day with events (of one guide), or None when there are none."""

    def work(con, snap):
        _prepare(con, snap, Filters(guide, timezone=timezone))
        return con.execute(
            "SELECT CAST(CAST(min(ts) AT TIME ZONE 'UTC' AS TIMESTAMP) AS DATE),"
            " CAST(CAST(max(ts) AT TIME ZONE 'UTC' AS TIMESTAMP) AS DATE) FROM events"
        ).fetchone()

    lo, hi = store.with_snapshot(Path(folder), work)
    return (lo, hi) if lo is not None else None
