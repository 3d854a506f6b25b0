"""The dashboard's charts as Altair (Vega-Lite) specifications, drawn by Streamlit.

Each takes one figure of :mod:`.stats` as it comes and only decides how it looks: works named by
their titles in full (Vega-Lite cuts axis labels at 180 px by default), a description for screen
readers, and the numbers in the tooltips. Altair ships with Streamlit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt

if TYPE_CHECKING:
    import pandas as pd

#: Longest axis label drawn, in pixels, before Vega-Lite ends it with an ellipsis.
LABEL_LIMIT = 360
#: Every work's name drawn (Vega-Lite drops every other label when it thinks they might touch).
_LABELS = alt.Axis(labelLimit=LABEL_LIMIT, labelOverlap=False)


def _height(rows: int, extra: int = 0) -> int:
    """Room for ``rows`` bars of 28 px with every label, plus the title and the value axis (Streamlit
    fits the whole chart, title and axes included, into this height)."""
    return 28 * max(rows, 2) + 90 + extra


def bars(
    df: pd.DataFrame,
    label: str,
    value: str,
    title: str,
    value_title: str | None = None,
    sort: bool = True,
    percent: bool = False,
    description: str | None = None,
) -> alt.Chart:
    """Horizontal bars, one per ``label`` (longest first when ``sort``), full labels;
    ``description`` is what screen readers announce (default: the title)."""
    fmt = ".0%" if percent else ",.0f"
    axis = alt.Axis(format=fmt) if percent else alt.Axis()
    x_title = value_title or value.replace("_", " ")
    return (
        alt.Chart(df, title=title, description=description or f"Bar chart: {title}")
        .mark_bar()
        .encode(
            y=alt.Y(f"{label}:N", sort="-x" if sort else None, title=None, axis=_LABELS),
            x=alt.X(f"{value}:Q", title=x_title, axis=axis),
            tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{value}:Q", format=fmt, title=x_title)],
        )
        .properties(height=_height(len(df)))
    )


def attraction(df: pd.DataFrame) -> alt.Chart:
    """Attraction power: the share of visits that framed each work."""
    return bars(
        df,
        "title",
        "attraction",
        "Attraction power",
        "share of visits that framed it",
        percent=True,
        description="Attraction power: the share of visits that framed each work",
    )


def holding(df: pd.DataFrame, reference_s: float) -> alt.LayerChart:
    """Holding power: each work's seconds per visit as a box (quartiles), whiskers (10th-90th
    percentile) and the median, against a vertical line at the reference."""
    description = (
        "Holding power: seconds each visit spent at each work, median, quartiles and 10th to 90th "
        f"percentile, against the reference of {reference_s:g} s"
    )
    order = df.sort_values("median_s", ascending=False)["title"].tolist()
    base = alt.Chart(df).encode(y=alt.Y("title:N", sort=order, title=None, axis=_LABELS))
    tips = [
        alt.Tooltip("title:N"),
        alt.Tooltip("visits:Q"),
        alt.Tooltip("median_s:Q", title="median (s)"),
        alt.Tooltip("p25_s:Q", title="25th percentile (s)"),
        alt.Tooltip("p75_s:Q", title="75th percentile (s)"),
        alt.Tooltip("share_at_reference:Q", format=".0%", title=f"visits of {reference_s:g} s or more"),
    ]
    whisker = base.mark_rule().encode(x=alt.X("p10_s:Q", title="seconds"), x2="p90_s:Q")
    box = base.mark_bar(size=14, opacity=0.55).encode(x="p25_s:Q", x2="p75_s:Q", tooltip=tips)
    median = base.mark_tick(thickness=3, size=18, color="black").encode(x="median_s:Q", tooltip=tips)
    reference = (
        alt.Chart(df.head(1))
        .mark_rule(color="#c0392b", strokeDash=[6, 3], size=2)
        .encode(x=alt.datum(float(reference_s)))
    )
    return alt.LayerChart(
        layer=[whisker, box, median, reference],
        title=alt.Title("Holding power", subtitle=f"seconds per visit; dashed line: {reference_s:g} s"),
        description=description,
        height=_height(len(df), 16),  # the subtitle
    )


def paths(df: pd.DataFrame) -> alt.LayerChart:
    """Which work after which, as a heat map: rows the work framed before, columns the next."""
    description = "Paths: how many times visitors framed each work (column) right after another (row)"
    base = alt.Chart(df).encode(
        y=alt.Y("from_title:N", title="framed before", axis=_LABELS),
        x=alt.X(
            "to_title:N",
            title="framed next",
            axis=alt.Axis(labelLimit=LABEL_LIMIT, labelOverlap=False, labelAngle=-30),
        ),
    )
    tips = [
        alt.Tooltip("from_title:N", title="before"),
        alt.Tooltip("to_title:N", title="next"),
        alt.Tooltip("transitions:Q"),
        alt.Tooltip("visits:Q"),
        alt.Tooltip("share:Q", format=".0%", title="of the moves from that work"),
    ]
    cells = base.mark_rect().encode(
        color=alt.Color("transitions:Q", scale=alt.Scale(scheme="blues"), title="moves"), tooltip=tips
    )
    # white figures on the darker cells
    dark = float(df["transitions"].max()) * 0.6 if df["transitions"].notna().any() else 0.0
    counts = base.mark_text(fontSize=12).encode(
        text="transitions:Q",
        color=alt.condition(alt.datum.transitions > dark, alt.value("white"), alt.value("black")),
    )
    side = 30 * max(df["from_title"].nunique(), df["to_title"].nunique(), 1) + 200  # + rotated labels
    return alt.LayerChart(
        layer=[cells, counts],
        title=alt.Title("Paths between works", subtitle="row: framed before; column: framed next"),
        description=description,
        height=side,
    )


def coverage(df: pd.DataFrame, works: int | None) -> alt.Chart:
    """Visits by the number of works they framed, the diligent ones (more than half of the guide's
    ``works``) in their own colour."""
    title = "Works framed per visit"
    description = title + (
        f"; diligent visits framed more than {works / 2:g} of the guide's {works}" if works else ""
    )
    data = df.assign(
        kind=["diligent" if works and n > works / 2 else "not diligent" for n in df["works_framed"]]
    )
    return (
        alt.Chart(data, title=title, description=description)
        .mark_bar()
        .encode(
            x=alt.X("works_framed:O", title="works framed", axis=alt.Axis(labelAngle=0)),
            y=alt.Y("visits:Q", title="visits"),
            color=alt.Color(
                "kind:N",
                title=None,
                scale=alt.Scale(domain=["not diligent", "diligent"], range=["#9ab7d3", "#1f5f99"]),
                legend=alt.Legend(orient="right"),
            ),
            tooltip=["works_framed:O", "visits:Q", "kind:N"],
        )
        .properties(height=320)
    )


def languages(df: pd.DataFrame) -> alt.Chart:
    """Visits per language, split into those that started in it and those that switched to it."""
    long = df[["language", "started_in", "switched_to"]].melt(
        id_vars="language", var_name="how", value_name="visits"
    )
    long["how"] = long["how"].map({"started_in": "started in it", "switched_to": "switched to it"})
    return (
        alt.Chart(
            long,
            title=alt.Title("Languages", subtitle="visits that used each"),
            description="Languages: visits that started in each language, and visits that switched to it",
        )
        .mark_bar()
        .encode(
            y=alt.Y("language:N", sort="-x", title=None),
            x=alt.X("sum(visits):Q", title="visits"),
            color=alt.Color("how:N", title=None, legend=alt.Legend(orient="right")),
            tooltip=["language:N", "how:N", "visits:Q"],
        )
        .properties(height=_height(len(df), 16))  # the subtitle (a legend above or below squeezes the bars)
    )
