"""Questions staff ask of the events, as DuckDB SQL: what did visitors look at, and how."""

from __future__ import annotations

from pathlib import Path

from .events import connect

QUERIES = {
    "by_day": """SELECT CAST(ts AS DATE) AS day, COUNT(DISTINCT session) AS visits,
                        COUNT(*) FILTER (WHERE type = 'artwork_recognised') AS artworks_recognised
                 FROM events GROUP BY day ORDER BY day""",
    "artworks": """SELECT artwork, COUNT(*) AS recognised, COUNT(DISTINCT session) AS visitors
                   FROM events WHERE type = 'artwork_recognised' GROUP BY artwork ORDER BY recognised DESC""",
    "details": """SELECT artwork || ' / ' || detail AS detail,
                         COUNT(*) FILTER (WHERE type = 'detail_recognised') AS recognised,
                         COUNT(*) FILTER (WHERE type = 'detail_opened') AS opened
                  FROM events WHERE detail IS NOT NULL GROUP BY 1 ORDER BY opened DESC, recognised DESC""",
    "media": """SELECT type, COUNT(*) AS times FROM events
                WHERE type IN ('audio_played', 'video_played', 'tts_played') GROUP BY type ORDER BY times DESC""",
    "languages": """SELECT language, COUNT(DISTINCT session) AS visits FROM events
                    WHERE type = 'session_start' GROUP BY language ORDER BY visits DESC""",
    "methods": """SELECT method, COUNT(DISTINCT session) AS visits FROM events GROUP BY method ORDER BY visits DESC""",
}


def query(path: Path, name: str, guide: str | None = None):
    """One of :data:`QUERIES` as a pandas DataFrame (empty when there are no events yet)."""
    import pandas as pd

    if not Path(path).is_file():
        return pd.DataFrame()
    sql = QUERIES[name]
    if guide:  # every query reads FROM events: narrow it to one guide
        sql = sql.replace("FROM events", "FROM (SELECT * FROM events WHERE guide = $guide)")
    con = connect(Path(path), read_only=True)
    try:
        return con.execute(sql, {"guide": guide} if guide else {}).df()
    except Exception:  # no events table yet
        return pd.DataFrame()
    finally:
        con.close()
