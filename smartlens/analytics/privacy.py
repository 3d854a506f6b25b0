"""k-anonymity for figures that leave the staff's screen: no group of fewer than k visits shown.

The staff's dashboard shows every figure (the same staff can download the raw events); what is
exported or printed (``smartlens stats``, the dashboard's figure downloads) first goes through
:func:`suppress` with ``k`` = :data:`MIN_GROUP`:

- *primary suppression*: a count of visits from 1 to k - 1 is left empty, and so is every figure
  computed from that group (its median dwell, its share...);
- *secondary suppression*: in a table whose rows add up to a total shown elsewhere (visits per
  hour, per day, per method, per number of works framed), a single hidden cell could be worked
  out by subtraction, so the next smallest cell of the table is hidden too;
- in a table ranked by its figures, hidden rows go last, in the order of their names.

Zero is shown (it describes nobody). Not covered: differences between figures of different
tables (e.g. two funnel steps), which would need rounding rather than suppression.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: The smallest group of visits an export shows.
MIN_GROUP = 5


@dataclass(frozen=True)
class Rule:
    """How one figure is protected: ``groups`` pairs each column counting visits with the columns
    computed from those visits; ``partition``: columns within which the counting column adds up
    to a published total (``()``: the whole table), None when it does not; ``ranked``: see below."""

    groups: tuple[tuple[str, tuple[str, ...]], ...]
    partition: tuple[str, ...] | None = None
    #: the query orders rows by its figures: a hidden row's place would tell them, so hidden rows
    #: go last, in the order of the columns never hidden (the names)
    ranked: bool = True


RULES: dict[str, Rule] = {
    "summary": Rule(
        (("visits", ("artworks_recognised", "details_opened", "media_played", "median_dwell_s", "events")),),
        ranked=False,
    ),
    "funnel": Rule((("sessions", ()),), ranked=False),
    "artworks": Rule((("visitors", ("views", "details_opened", "median_dwell_s")),)),
    "details": Rule((("visits", ("recognised", "opened", "played")),)),
    "by_hour": Rule((("visits", ()),), partition=(), ranked=False),
    "by_day": Rule((("visits", ("artworks_recognised",)),), partition=(), ranked=False),
    "languages": Rule((("visits", ()), ("started_in", ()), ("switched_to", ()))),
    "methods": Rule((("visits", ()),), partition=()),
    "media": Rule((("visitors", ("times",)),)),
    "attraction": Rule((("of_visits", ("visits", "attraction")), ("visits", ("attraction",)))),
    "holding": Rule(
        (
            (
                "visits",
                ("p10_s", "p25_s", "median_s", "p75_s", "p90_s", "share_at_reference", "holding_power"),
            ),
        )
    ),
    "diligent": Rule((("visits", ("diligent", "diligent_share")), ("diligent", ("diligent_share",)))),
    "coverage": Rule((("visits", ()),), partition=("guide",), ranked=False),
    "paths": Rule((("visits", ("transitions", "share")),)),
}


def note(k: int) -> str:
    """What an export says about its hidden cells."""
    return (
        f"groups of fewer than {k} visits are hidden (empty cells), with every figure computed from "
        "them; where a hidden cell could be worked out from a total, the next smallest one is hidden too"
    )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def suppression_sql(rule: Rule, k: int, columns: list[str]) -> str:
    """SQL over the view ``fig`` (with a row number ``_row``) that empties the cells ``rule`` hides."""
    small = {c: f"({_quote(c)} BETWEEN 1 AND {k - 1})" for c, _ in rule.groups}
    hidden = dict(small)
    if rule.partition is not None:
        by = f"PARTITION BY {', '.join(map(_quote, rule.partition))}" if rule.partition else ""
        c = rule.groups[0][0]
        order = f"CASE WHEN {small[c]} OR {_quote(c)} = 0 THEN NULL ELSE {_quote(c)} END ASC NULLS LAST, _row"
        hidden[c] = (
            f"({small[c]} OR (count(*) FILTER (WHERE {small[c]}) OVER ({by}) = 1 "
            f"AND row_number() OVER ({by} ORDER BY {order}) = 1 AND {_quote(c)} > 0))"
        )
    # each column: hidden when any group it belongs to is
    when: dict[str, list[str]] = {}
    for c, deps in rule.groups:
        for col in (c, *deps):
            when.setdefault(col, []).append(f"_h_{c}")
    flags = ", ".join(f"coalesce({expr}, false) AS _h_{c}" for c, expr in hidden.items())
    out = ", ".join(
        f"CASE WHEN {' OR '.join(when[col])} THEN NULL ELSE {_quote(col)} END AS {_quote(col)}"
        if col in when
        else _quote(col)
        for col in columns
    )
    order = "_row"
    if rule.ranked:
        any_hidden = " OR ".join(f"_h_{c}" for c in hidden)
        names = ", ".join(_quote(c) for c in columns if c not in when)
        order = f"({any_hidden}), CASE WHEN {any_hidden} THEN NULL ELSE _row END, {names or '_row'}"
    return f"SELECT {out} FROM (SELECT *, {flags} FROM fig) ORDER BY {order}"


def suppress(con: Any, name: str, df: pd.DataFrame, k: int) -> pd.DataFrame:
    """``df`` (the figure ``name``) with :data:`RULES` applied for groups of at least ``k`` visits
    (``k`` <= 1: as it is), by DuckDB on the connection ``con``."""
    rule = RULES.get(name)
    if k <= 1 or rule is None or df.empty:
        return df
    fig = df.assign(_row=range(len(df)))
    con.register("fig", fig)
    try:
        out = con.execute(suppression_sql(rule, k, list(df.columns))).df()
    finally:
        con.unregister("fig")
    return out
