"""Visitors: what the exhibition's visitors looked at, when and how (anonymous events, staff only).

A page of the studio (``apps/studio/app.py`` lists it and asks for the staff password). Every
figure comes from :mod:`smartlens.analytics.stats` (the same as ``python -m smartlens stats``);
this page only draws them.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import cv2
import pandas as pd
import streamlit as st
from shared import settings

from smartlens.analytics import stats, store
from smartlens.analytics.heatmap import attention_map
from smartlens.errors import USER_ERRORS
from smartlens.escaping import plain
from smartlens.guide import list_guides, load_guide

ALL = "All guides"


@st.cache_data(ttl=20, show_spinner=False)
def figures(folder: str, filters: stats.Filters) -> dict[str, pd.DataFrame]:
    return stats.figures(Path(folder), filters)


@st.cache_data(ttl=20, show_spinner=False)
def day_span(folder: str, guide: str | None) -> tuple[date, date] | None:
    return stats.day_span(Path(folder), guide)


@st.cache_data(ttl=60, show_spinner=False)
def event_guides(folder: str) -> list[str]:
    return stats.guides(Path(folder))


def bars(df: pd.DataFrame, label: str, value: str, title: str, sort: bool = True) -> None:
    """A titled horizontal bar chart (Streamlit's own, Vega-Lite), longest bar first."""
    st.markdown(f"**{title}**")
    st.bar_chart(
        df,
        x=label,
        y=value,
        horizontal=True,
        sort=f"-{value}" if sort else False,
        height=max(150, 32 * len(df) + 70),
        x_label="",  # horizontal: x is the bars' names, y their length
        y_label=value.replace("_", " "),
    )


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
left, right = st.columns([1, 2])
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
picked = right.date_input(
    "Days", value=span, min_value=span[0] - timedelta(days=366), max_value=span[1] + timedelta(days=1)
)
since, until = picked if isinstance(picked, tuple) and len(picked) == 2 else (span[0], span[1])
filters = stats.Filters(guide, since, until)
figs = figures(str(folder), filters)
summary = figs["summary"].iloc[0]

# --- headline figures ------------------------------------------------------------------------------
m = st.columns(5)
m[0].metric("Visits", int(summary["visits"]))
m[1].metric("Artworks recognised", int(summary["artworks_recognised"]))
m[2].metric("Details opened", int(summary["details_opened"]))
m[3].metric("Audio, video, read-aloud", int(summary["media_played"]))
dwell = summary["median_dwell_s"]
m[4].metric("Median time at an artwork", "-" if pd.isna(dwell) else f"{dwell:.0f} s")
if not int(summary["events"]):
    st.info("No events in these days.")
    st.stop()

# --- what was looked at ------------------------------------------------------------------------------
c1, c2 = st.columns(2)
artworks = figs["artworks"]
with c1:
    if artworks.empty:
        st.info("No artwork recognised in these days.")
    else:
        bars(artworks.head(15), "artwork", "views", "Most viewed artworks")
with c2:
    funnel = figs["funnel"]
    bars(funnel, "stage", "sessions", "From recognition to media (visits)", sort=False)
    st.dataframe(funnel[["stage", "sessions"]], hide_index=True)

if not artworks.empty:
    with st.expander("All artworks, as a table"):
        st.dataframe(artworks, hide_index=True)
dwelled = artworks.dropna(subset=["median_dwell_s"]) if not artworks.empty else artworks
if not dwelled.empty:
    bars(dwelled.head(15), "artwork", "median_dwell_s", "Median seconds in front of each artwork")

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
    bars(figs["languages"], "language", "visits", "Languages")
with c2:
    bars(figs["methods"], "method", "visits", "Recognition methods")
with c3:
    media = figs["media"]
    if media.empty:
        st.info("No audio, video or read-aloud played.")
    else:
        bars(media, "medium", "times", "Audio, video, read-aloud")

# --- details and the heat map ----------------------------------------------------------------------------
st.subheader("Details that draw attention")
details = figs["details"]
if details.empty:
    st.info("No detail recognised or opened in these days.")
else:
    c1, c2 = st.columns([2, 3])
    with c1:
        st.dataframe(details, hide_index=True)
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
            seen = [a for a in details["artwork"].unique() if a in {x.id for x in ref.guide.artworks}]
            if seen:
                art = st.selectbox("Artwork", seen, key="visitors_heat_artwork")
                rows = details[details["artwork"] == art]
                attention = dict(zip(rows["detail"], rows["recognised"] + rows["opened"]))
                try:
                    picture = attention_map(ref, art, attention, settings())
                    st.image(
                        cv2.cvtColor(picture, cv2.COLOR_BGR2RGB),
                        caption="Detail recognised + opened, warmer = more",
                        width="stretch",
                    )
                except USER_ERRORS + (OSError,) as exc:
                    st.warning(f"The picture of {art} cannot be shown: {plain(str(exc))}")

# --- export ----------------------------------------------------------------------------------------------
st.subheader("Export")
st.caption("The events of these days and this guide, one row each (times in UTC).")
stem = f"smartlens-events-{guide or 'all'}-{since}-{until}"
c1, c2, _ = st.columns([1, 1, 3])
c1.download_button(
    "CSV",
    lambda: stats.export_bytes(folder, filters, "csv"),
    file_name=f"{stem}.csv",
    mime="text/csv",
    icon=":material/download:",
    on_click="ignore",
)
c2.download_button(
    "Parquet",
    lambda: stats.export_bytes(folder, filters, "parquet"),
    file_name=f"{stem}.parquet",
    mime="application/vnd.apache.parquet",
    icon=":material/download:",
    on_click="ignore",
)
