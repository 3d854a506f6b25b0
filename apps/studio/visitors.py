"""Visitors: what the exhibition's visitors looked at, when and how (anonymous events, staff only).

A page of the studio (``apps/studio/app.py`` lists it and asks for the staff password). Every
figure comes from :mod:`smartlens.analytics.stats` (the same as ``python -m smartlens stats``)
and every chart from :mod:`smartlens.analytics.charts`; this page only lays them out. The staff
see every figure; the figures they download hide groups of fewer than 5 visits.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import cv2
import pandas as pd
import streamlit as st
from shared import settings

from smartlens.analytics import charts, privacy, stats, store
from smartlens.analytics.heatmap import attention_map
from smartlens.analytics.titles import Title, load_titles
from smartlens.errors import USER_ERRORS
from smartlens.escaping import plain
from smartlens.guide import list_guides, load_guide

ALL = "All guides"


@st.cache_data(ttl=20, show_spinner=False)
def figures(folder: str, filters: stats.Filters, options: stats.Options) -> dict[str, pd.DataFrame]:
    return stats.figures(Path(folder), filters, options=options)


@st.cache_data(ttl=20, show_spinner=False)
def day_span(folder: str, guide: str | None) -> tuple[date, date] | None:
    return stats.day_span(Path(folder), guide)


@st.cache_data(ttl=60, show_spinner=False)
def event_guides(folder: str) -> list[str]:
    return stats.guides(Path(folder))


@st.cache_data(ttl=60, show_spinner=False)
def titles(names: tuple[str, ...], language: str | None) -> tuple[Title, ...]:
    return load_titles(settings(), names, language)


def chart(spec) -> None:
    st.altair_chart(spec, width="stretch")


def as_table(df: pd.DataFrame, label: str, drop: tuple[str, ...] = ("guide", "artwork")) -> None:
    """The figure behind a chart, for exact numbers and screen readers."""
    with st.expander(label):
        st.dataframe(df.drop(columns=[c for c in drop if c in df.columns]), hide_index=True)


st.set_page_config(layout="wide")  # as in the studio, also when the page runs alone (tests)
folder = settings().events_dir
st.title("Visitors")
st.caption(
    "Anonymous statistics: each visit has a random id that lives as long as the visit; no IP address, "
    "no browser details, no free text are stored. Times are this server's local time. Events older than "
    f"{settings().event_retention_days} days are deleted (setting `event_retention_days`)."
    if settings().event_retention_days
    else "Anonymous statistics (no IP address, no browser details, no free text); events are kept forever."
)

health = store.health(folder)
if health.problem:
    st.error(f"The event store has a problem: {plain(health.problem)}")
lost = health.dropped
if lost:
    st.warning(f"{lost} events could not be stored by the lens (see `python -m smartlens events status`).")

# --- filters ---------------------------------------------------------------------------------------
names = sorted(set(list_guides(settings())) | set(event_guides(str(folder))))
left, middle, right = st.columns([2, 3, 2])
options = [ALL, *names]
wanted = st.query_params.get("guide")  # ?guide=NAME: a bookmarkable view of one guide
choice = left.selectbox(
    "Guide", options, index=options.index(wanted) if wanted in options else 0, key="visitors_guide"
)
guide = None if choice == ALL else choice
span = day_span(str(folder), guide)
if span is None:
    st.info("No visits recorded yet" + (f" for {guide}." if guide else "."))
    st.stop()
picked = middle.date_input(
    "Days", value=span, min_value=span[0] - timedelta(days=366), max_value=span[1] + timedelta(days=1)
)
since, until = picked if isinstance(picked, tuple) and len(picked) == 2 else (span[0], span[1])
shown = (guide,) if guide else tuple(event_guides(str(folder)))
languages: list[str] = []
for name in shown:  # the guides' languages, for the titles
    try:
        languages += [
            x for x in load_guide(name, settings(), check=False).guide.languages if x not in languages
        ]
    except USER_ERRORS + (OSError,):
        pass
language = right.selectbox(
    "Titles in",
    [None, *languages],
    format_func=lambda x: "each guide's own language" if x is None else x,
    key="visitors_language",
)
reference = right.number_input(
    "Holding-power reference (s)",
    min_value=1.0,
    max_value=3600.0,
    value=stats.REFERENCE_S,
    step=1.0,
    help="The time in front of a work that holding power is measured against; 17 s is a classic "
    "median for paintings (Metropolitan Museum of Art).",
    key="visitors_reference",
)
filters = stats.Filters(guide, since, until)
opts = stats.Options(titles(shown, language), float(reference))
figs = figures(str(folder), filters, opts)
summary = figs["summary"].iloc[0]

# --- headline figures ------------------------------------------------------------------------------
diligent = figs["diligent"]
m = st.columns(6)
m[0].metric("Visits", int(summary["visits"]))
m[1].metric("Artworks recognised", int(summary["artworks_recognised"]))
m[2].metric("Details opened", int(summary["details_opened"]))
m[3].metric("Audio, video, read-aloud", int(summary["media_played"]))
dwell = summary["median_dwell_s"]
m[4].metric("Median time at an artwork", "-" if pd.isna(dwell) else f"{dwell:.0f} s")
share = diligent["diligent"].sum() / max(int(diligent["visits"].sum()), 1)
m[5].metric(
    "Diligent visits",
    f"{share:.0%}",
    help="Visits that framed more than half of the guide's works.",
)
if not int(summary["events"]):
    st.info("No events in these days.")
    st.stop()

# --- the figures museums use ---------------------------------------------------------------------------
st.subheader("What draws and holds visitors")
attraction, holding = figs["attraction"], figs["holding"]
c1, c2 = st.columns(2)
with c1:
    if attraction.empty:
        st.info("No artwork recognised in these days.")
    else:
        chart(charts.attraction(attraction))
        as_table(attraction, "Attraction power, as a table")
with c2:
    if holding.empty:
        st.info("No time in front of an artwork recorded in these days.")
    else:
        chart(charts.holding(holding, reference))
        as_table(holding, "Holding power, as a table")

c1, c2 = st.columns(2)
with c1:
    paths = figs["paths"]
    if paths.empty:
        st.info("No visit went from one artwork to another in these days.")
    else:
        chart(charts.paths(paths))
        as_table(paths, "Paths, as a table", ("guide", "from_artwork", "to_artwork"))
with c2:
    works = int(diligent["works"].iloc[0]) if len(diligent) == 1 else None
    chart(charts.coverage(figs["coverage"], works))
    as_table(diligent, "Diligent visits per guide", ())

# --- what was looked at ------------------------------------------------------------------------------
c1, c2 = st.columns(2)
artworks = figs["artworks"]
with c1:
    if not artworks.empty:
        chart(charts.bars(artworks.head(15), "title", "views", "Most viewed artworks"))
with c2:
    funnel = figs["funnel"]
    chart(charts.bars(funnel, "stage", "sessions", "From recognition to media", "visits", sort=False))
    st.dataframe(funnel[["stage", "sessions"]], hide_index=True)
if not artworks.empty:
    as_table(artworks, "All artworks, as a table")

# --- when --------------------------------------------------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    st.subheader("Visits per day")
    st.bar_chart(figs["by_day"], x="day", y="visits", height=260)
with c2:
    st.subheader("Visits per hour of day")
    st.bar_chart(figs["by_hour"], x="hour", y="visits", height=260)

# --- how -----------------------------------------------------------------------------------------------
c1, c2, c3 = st.columns(3)
with c1:
    chart(charts.languages(figs["languages"]))
with c2:
    chart(charts.bars(figs["methods"], "method", "visits", "Recognition methods"))
with c3:
    media = figs["media"]
    if media.empty:
        st.info("No audio, video or read-aloud played.")
    else:
        chart(charts.bars(media, "medium", "times", "Audio, video, read-aloud"))

# --- details and the heat map ----------------------------------------------------------------------------
st.subheader("Details that draw attention")
details = figs["details"]
if details.empty:
    st.info("No detail recognised or opened in these days.")
else:
    c1, c2 = st.columns([2, 3])
    with c1:
        st.dataframe(details.drop(columns=["guide", "artwork", "detail"]), hide_index=True)
    with c2:
        ref = None
        if guide:
            try:
                ref = load_guide(guide, settings())
            except USER_ERRORS + (OSError,) as exc:
                st.warning(f"Guide {guide} cannot be read: {plain(str(exc))}")
        if ref is None:
            st.info("Choose a guide to see its details' heat map.")
        else:
            own = {a.id for a in ref.guide.artworks}
            seen = details[details["artwork"].isin(own)].drop_duplicates("artwork")
            title_of = dict(zip(seen["artwork"], seen["artwork_title"]))
            art = (
                st.selectbox(
                    "Artwork", list(title_of), format_func=title_of.__getitem__, key="visitors_heat_artwork"
                )
                if title_of
                else None
            )
            if art is not None:
                rows = details[details["artwork"] == art]
                attention = dict(zip(rows["detail"], rows["recognised"] + rows["opened"]))
                try:
                    picture = attention_map(ref, art, attention, settings())
                    st.image(
                        cv2.cvtColor(picture, cv2.COLOR_BGR2RGB),
                        caption="Details recognised + opened, warmer = more",
                        width=560,
                    )
                    called = dict(zip(rows["detail"], rows["detail_title"]))
                    numbered = [d.id for d in ref.guide.artwork(art).details]  # as the boxes are
                    st.markdown(
                        "\n".join(
                            f"{n}. {plain(called.get(d, d))}: {int(attention.get(d, 0))}"
                            for n, d in enumerate(numbered, 1)
                        )
                    )
                except USER_ERRORS + (OSError,) as exc:
                    st.warning(f"The picture of {plain(title_of[art])} cannot be shown: {plain(str(exc))}")

# --- export ----------------------------------------------------------------------------------------------
st.subheader("Export")
stem = f"smartlens-{guide or 'all'}-{since}-{until}"
k = privacy.MIN_GROUP
st.caption(
    f"**Figures** (to share): every table above, with groups of fewer than {k} visits left empty "
    "(k-anonymity). **Events** (staff only): one row per event, times in UTC."
)


def figures_export(fmt: str) -> bytes:
    shared = stats.figures(folder, filters, options=stats.Options(opts.titles, opts.reference_s, k))
    return stats.render(shared, fmt, k).encode("utf-8")


DOWNLOADS = (  # label, what, file suffix, media type
    ("Figures, CSV", lambda: figures_export("csv"), "figures.csv", "text/csv"),
    ("Figures, JSON", lambda: figures_export("json"), "figures.json", "application/json"),
    ("Events, CSV", lambda: stats.export_bytes(folder, filters, "csv"), "events.csv", "text/csv"),
    (
        "Events, Parquet",
        lambda: stats.export_bytes(folder, filters, "parquet"),
        "events.parquet",
        "application/vnd.apache.parquet",
    ),
)
for column, (label, data, suffix, mime) in zip(st.columns([1, 1, 1, 1, 2]), DOWNLOADS):
    column.download_button(
        label, data, file_name=f"{stem}-{suffix}", mime=mime, icon=":material/download:", on_click="ignore"
    )
