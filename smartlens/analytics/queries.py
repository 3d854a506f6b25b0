"""The figures as DuckDB SQL, over the temporary tables :func:`.stats.figures` prepares:

- ``events`` (a view): the store's events of the chosen guide and days (``ts`` in UTC);
- ``catalogue``: the guides' titles (:class:`.titles.Title` rows: guide, artwork, detail, title,
  position), possibly empty;
- ``works`` (made first when a query needs it): every artwork of the guides in view (listed in
  the catalogue, even if nobody framed it) and every artwork seen in the events, with a
  ``label`` for charts: its title, made unique by the guide's name or the artwork's id when two
  works share a title;
- the variable ``reference_s``: the holding-power reference in seconds.

A *visit* is one session id in one guide. Museum terms (Bitgood, Serrell): *attraction power* is
the share of visits that framed a work; *holding power* is the time visits spent in front of it
(each visit's stops at the work added up), against a reference time; a *diligent* visit framed
more than half of the guide's works. Languages are counted from every event of a visit, not only
its first: a visitor who switches language mid-visit logs ``session_start`` in the first
language and everything after in the new one.
"""

from __future__ import annotations

import re

from .schema import PLAYED

_PLAYED = "(" + ", ".join(f"'{t}'" for t in PLAYED) + ")"
# the same guide (NULL matches NULL: events logged without a guide still get their works)
_SAME_GUIDE = "{a}.guide IS NOT DISTINCT FROM {b}.guide"

#: The table of works (see the module's doc): made once per set of figures, as each query that
#: names a work would otherwise list them again from the events.
WORKS_TABLE = """
    CREATE OR REPLACE TEMP TABLE works AS
    WITH seen AS (SELECT DISTINCT guide, artwork FROM events WHERE artwork IS NOT NULL),
    listed AS (
        SELECT guide, artwork, title, position FROM catalogue
        WHERE detail IS NULL AND guide IN (SELECT DISTINCT guide FROM events)),
    u AS (
        SELECT coalesce(l.guide, s.guide) AS guide, coalesce(l.artwork, s.artwork) AS artwork,
               coalesce(l.title, s.artwork) AS title, l.position, l.artwork IS NOT NULL AS in_guide
        FROM listed l FULL JOIN seen s ON l.guide IS NOT DISTINCT FROM s.guide AND l.artwork = s.artwork)
    SELECT *, CASE
        WHEN count(*) OVER (PARTITION BY title) = 1 THEN title
        WHEN count(*) OVER (PARTITION BY guide, title) = 1 THEN title || ' (' || coalesce(guide, '?') || ')'
        ELSE title || ' (' || artwork || ')' END AS label
    FROM u"""


def uses_works(sql: str) -> bool:
    """Whether a query reads the table of works."""
    return re.search(r"\bworks\b", sql) is not None


#: name -> SQL over the views above.
QUERIES: dict[str, str] = {
    "summary": f"""
        SELECT count(DISTINCT session) AS visits,
               count(*) FILTER (WHERE type = 'artwork_recognised') AS artworks_recognised,
               count(*) FILTER (WHERE type = 'detail_opened') AS details_opened,
               count(*) FILTER (WHERE type IN {_PLAYED}) AS media_played,
               median(dwell_s) FILTER (WHERE type = 'artwork_left') AS median_dwell_s,
               count(*) AS events
        FROM events""",
    "artworks": f"""
        WITH e AS (
            SELECT guide, artwork, session, type, dwell_s FROM events
            WHERE artwork IS NOT NULL AND type IN ('artwork_recognised', 'artwork_left', 'detail_opened')),
        v AS (
            SELECT guide, artwork, sum(n) AS views, count(*) AS visitors FROM (
                SELECT guide, artwork, session, count(*) AS n FROM e WHERE type = 'artwork_recognised' GROUP BY ALL
            ) GROUP BY ALL),
        o AS (SELECT guide, artwork, count(*) AS details_opened FROM e WHERE type = 'detail_opened' GROUP BY ALL),
        w AS (SELECT guide, artwork, median(dwell_s) AS median_dwell_s FROM e WHERE type = 'artwork_left' GROUP BY ALL)
        SELECT works.label AS title, v.guide, v.artwork, CAST(views AS BIGINT) AS views, visitors,
               coalesce(details_opened, 0) AS details_opened, round(median_dwell_s, 1) AS median_dwell_s
        FROM v JOIN works ON {_SAME_GUIDE.format(a="works", b="v")} AND works.artwork = v.artwork
        LEFT JOIN o ON {_SAME_GUIDE.format(a="o", b="v")} AND o.artwork = v.artwork
        LEFT JOIN w ON {_SAME_GUIDE.format(a="w", b="v")} AND w.artwork = v.artwork
        ORDER BY views DESC, title""",
    "details": f"""
        WITH d AS (
            SELECT guide, artwork, detail, count(DISTINCT session) AS visits,
                   count(*) FILTER (WHERE type = 'detail_recognised') AS recognised,
                   count(*) FILTER (WHERE type = 'detail_opened') AS opened,
                   count(*) FILTER (WHERE type IN {_PLAYED}) AS played
            FROM events WHERE detail IS NOT NULL AND artwork IS NOT NULL GROUP BY ALL)
        SELECT works.label AS artwork_title, coalesce(c.title, d.detail) AS detail_title, d.guide, d.artwork,
               d.detail, visits, recognised, opened, played
        FROM d JOIN works ON {_SAME_GUIDE.format(a="works", b="d")} AND works.artwork = d.artwork
        LEFT JOIN catalogue c ON {_SAME_GUIDE.format(a="c", b="d")} AND c.artwork = d.artwork AND c.detail = d.detail
        ORDER BY opened DESC, recognised DESC, artwork_title, detail_title""",
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
    # every language a visit used (its events after a switch carry the new one): a visit that
    # switched counts once in each, so the visits of all languages add up to more than all visits
    "languages": """
        WITH per AS (
            SELECT session, language, bool_or(type = 'session_start') AS started
            FROM events WHERE language IS NOT NULL GROUP BY ALL)
        SELECT language, count(*) AS visits, count(*) FILTER (WHERE started) AS started_in,
               count(*) FILTER (WHERE NOT started) AS switched_to
        FROM per GROUP BY language ORDER BY visits DESC, language""",
    "methods": """
        SELECT coalesce(method, '?') AS method, count(*) AS visits
        FROM events WHERE type = 'session_start' GROUP BY 1 ORDER BY visits DESC, method""",
    "media": f"""
        SELECT CASE type WHEN 'audio_played' THEN 'audio' WHEN 'video_played' THEN 'video'
                    WHEN 'tts_played' THEN 'read-aloud' ELSE type END AS medium,
               count(*) AS times, count(DISTINCT session) AS visitors
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
    # share of a guide's visits that framed each of its works (0 for a work nobody framed)
    "attraction": f"""
        WITH v AS (SELECT guide, count(DISTINCT session) AS n FROM events GROUP BY guide),
        f AS (
            SELECT guide, artwork, count(DISTINCT session) AS visits FROM events
            WHERE type = 'artwork_recognised' AND artwork IS NOT NULL GROUP BY ALL)
        SELECT works.label AS title, works.guide, works.artwork, coalesce(f.visits, 0) AS visits,
               v.n AS of_visits, round(coalesce(f.visits, 0) / v.n, 4) AS attraction
        FROM works JOIN v ON {_SAME_GUIDE.format(a="v", b="works")}
        LEFT JOIN f ON {_SAME_GUIDE.format(a="f", b="works")} AND f.artwork = works.artwork
        ORDER BY attraction DESC, works.position NULLS LAST, title""",
    # each visit's time at a work is the sum of its stops there (artwork_left's dwell_s)
    "holding": f"""
        WITH d AS (
            SELECT guide, artwork, session, sum(dwell_s) AS s FROM events
            WHERE type = 'artwork_left' AND artwork IS NOT NULL AND dwell_s IS NOT NULL GROUP BY ALL),
        h AS (
            SELECT guide, artwork, count(*) AS visits,
                   quantile_cont(s, [0.1, 0.25, 0.5, 0.75, 0.9]) AS q,
                   avg(CAST(s >= getvariable('reference_s') AS DOUBLE)) AS at_reference
            FROM d GROUP BY ALL)
        SELECT works.label AS title, h.guide, h.artwork, visits,
               round(q[1], 1) AS p10_s, round(q[2], 1) AS p25_s, round(q[3], 1) AS median_s,
               round(q[4], 1) AS p75_s, round(q[5], 1) AS p90_s,
               round(at_reference, 4) AS share_at_reference,
               round(q[3] / getvariable('reference_s'), 2) AS holding_power,
               getvariable('reference_s') AS reference_s
        FROM h JOIN works ON {_SAME_GUIDE.format(a="works", b="h")} AND works.artwork = h.artwork
        ORDER BY q[3] DESC, title""",
    # a visit is diligent when it framed more than half of its guide's works (those the guide
    # lists; for a guide that cannot be read, those framed in these days)
    "diligent": """
        WITH per AS (
            SELECT guide, session, count(DISTINCT artwork) FILTER (WHERE type = 'artwork_recognised') AS framed
            FROM events GROUP BY ALL),
        size AS (
            SELECT guide, CASE WHEN bool_or(in_guide) THEN count(*) FILTER (WHERE in_guide) ELSE count(*) END AS works
            FROM works GROUP BY guide)
        SELECT per.guide, coalesce(size.works, 0) AS works, count(*) AS visits,
               count(*) FILTER (WHERE framed > coalesce(size.works, 0) / 2) AS diligent,
               round(diligent / visits, 4) AS diligent_share
        FROM per LEFT JOIN size ON per.guide IS NOT DISTINCT FROM size.guide
        GROUP BY per.guide, size.works ORDER BY visits DESC, per.guide""",
    # how many works each visit framed: the distribution the diligent share cuts in two
    "coverage": """
        WITH per AS (
            SELECT guide, session, count(DISTINCT artwork) FILTER (WHERE type = 'artwork_recognised') AS framed
            FROM events GROUP BY ALL)
        SELECT guide, framed AS works_framed, count(*) AS visits FROM per GROUP BY ALL ORDER BY guide, works_framed""",
    # which work after which: consecutive recognitions of different works in a visit
    "paths": f"""
        WITH r AS (
            SELECT guide, session, artwork,
                   lag(artwork) OVER (PARTITION BY guide, session ORDER BY ts) AS prev
            FROM events WHERE type = 'artwork_recognised' AND artwork IS NOT NULL),
        t AS (
            SELECT guide, prev AS from_artwork, artwork AS to_artwork, count(*) AS transitions,
                   count(DISTINCT session) AS visits
            FROM r WHERE prev IS NOT NULL AND prev <> artwork GROUP BY ALL)
        SELECT a.label AS from_title, b.label AS to_title, t.guide, from_artwork, to_artwork, transitions, visits,
               round(transitions / sum(transitions) OVER (PARTITION BY t.guide, from_artwork), 4) AS share
        FROM t JOIN works a ON {_SAME_GUIDE.format(a="a", b="t")} AND a.artwork = from_artwork
        JOIN works b ON {_SAME_GUIDE.format(a="b", b="t")} AND b.artwork = to_artwork
        ORDER BY transitions DESC, from_title, to_title""",
}
