"""Questions curators ask of the visitor events, as DuckDB SQL over the whole store.

Every figure (:data:`.queries.QUERIES`) is computed by DuckDB over one listing of the store
(:func:`.store.snapshot`), in the museum's local time (events are stored in UTC), narrowed to a
guide and a date range, with the guides' titles in place of ids. The studio's dashboard and
``python -m smartlens stats`` show the same :func:`figures`; exports hide small groups
(:mod:`.privacy`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import privacy, store
from .queries import QUERIES, WORKS_TABLE, uses_works
from .schema import COLUMNS
from .titles import Title

__all__ = ["QUERIES", "TITLES", "Filters", "Options", "day_span", "export", "figures", "guides", "render"]

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


#: The classic median time in front of a painting (the Metropolitan Museum of Art): the default
#: reference of holding power.
REFERENCE_S = 17.0


@dataclass(frozen=True)
class Options:
    """How the figures are made: ``titles`` of the guides' works (:mod:`.titles`; ids where none),
    ``reference_s`` the time in front of a work that holding power is measured against, and
    ``min_group`` the smallest group of visits shown (1: everything, for the staff's own screen;
    exports use :data:`.privacy.MIN_GROUP`)."""

    titles: tuple[Title, ...] = ()
    reference_s: float = REFERENCE_S
    min_group: int = 1


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


def _prepare(
    con: Any, snap: store.Snapshot, filters: Filters, options: Options = Options(), works: bool = False
) -> None:
    if filters.timezone:
        con.execute(f"SET SESSION TimeZone = {_literal(filters.timezone)}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW events AS {view_sql(snap, filters)}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE catalogue "
        "(guide VARCHAR, artwork VARCHAR, detail VARCHAR, title VARCHAR, position INTEGER)"
    )
    if options.titles:
        con.executemany(
            "INSERT INTO catalogue VALUES (?, ?, ?, ?, ?)",
            [(t.guide, t.artwork, t.detail, t.title, t.position) for t in options.titles],
        )
    if works:
        con.execute(WORKS_TABLE)
    con.execute(f"SET VARIABLE reference_s = CAST({float(options.reference_s)!r} AS DOUBLE)")


def figures(
    folder: Path,
    filters: Filters = Filters(),
    names: Iterable[str] | None = None,
    options: Options = Options(),
) -> dict[str, pd.DataFrame]:
    """Each of :data:`QUERIES` (or ``names``) as a pandas DataFrame, all from one listing, with
    groups under ``options.min_group`` visits hidden (:func:`.privacy.suppress`)."""
    wanted = list(QUERIES if names is None else names)
    if not options.reference_s > 0:
        raise ValueError("the holding-power reference must be more than 0 seconds")

    def work(con, snap):
        _prepare(con, snap, filters, options, works=any(uses_works(QUERIES[n]) for n in wanted))
        return {
            name: privacy.suppress(con, name, con.execute(QUERIES[name]).df(), options.min_group)
            for name in wanted
        }

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
    "attraction": "Attraction power (share of visits that framed each work)",
    "holding": "Holding power (seconds each visit spent at a work)",
    "diligent": "Diligent visits (framed more than half of the guide's works)",
    "coverage": "Works framed per visit",
    "paths": "Paths (which work after which)",
    "artworks": "Most viewed artworks",
    "details": "Details",
    "by_day": "Visits per day",
    "by_hour": "Visits per hour of day",
    "languages": "Languages (visits that used each; a visit that switched counts in both)",
    "methods": "Recognition methods",
    "media": "Audio, video, read-aloud",
}


def render(figs: dict[str, pd.DataFrame], fmt: str = "table", min_group: int = 1) -> str:
    """The figures as text: ``table`` (titled tables), ``csv`` (``# name`` then CSV) or ``json``;
    with the privacy note when groups under ``min_group`` visits were hidden."""
    import json

    names = [n for n in TITLES if n in figs]
    note = privacy.note(min_group) if min_group > 1 else None
    if fmt == "json":
        out: dict[str, object] = {"privacy": note} if note else {}
        out |= {n: json.loads(figs[n].to_json(orient="records", date_format="iso")) for n in names}
        return json.dumps(out, indent=2, ensure_ascii=False)
    parts = [f"# privacy: {note}" if fmt == "csv" else f"Privacy: {note}."] if note else []
    for n in names:
        df = figs[n]
        if fmt == "csv":
            parts.append(f"# {n}\n{df.to_csv(index=False).rstrip()}")
        else:
            body = "(none)" if df.empty else _table(df)
            parts.append(f"{TITLES[n]}\n{'-' * len(TITLES[n])}\n{body}")
    return "\n\n".join(parts)


def _table(df: pd.DataFrame) -> str:
    """A figure as aligned text: empty cells as '-', seconds to 0.1, shares to 0.001."""
    shown = df.astype(object).where(df.notna(), "-")
    for col in df.columns:
        if df[col].dtype.kind == "f":
            shown[col] = [v if v == "-" else (f"{v:.1f}" if abs(v) >= 1 else f"{v:.3f}") for v in shown[col]]
    return shown.to_string(index=False)


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
