"""What every studio page shares: the settings (read once per server process), the chosen guide,
and small widgets (errors shown as messages, the job panel)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pandas as pd
import streamlit as st

from smartlens.config import Settings, load_settings
from smartlens.errors import USER_ERRORS
from smartlens.escaping import plain
from smartlens.guide import GuideRef, list_guides, load_guide


@st.cache_resource
def settings() -> Settings:
    """The studio's settings (the apps and the CLI are the only readers of the environment)."""
    return load_settings()


def show_error(exc: Exception) -> None:
    """A user error as a message (guide texts inside it are shown as typed, never as markup)."""
    st.error(plain(str(exc)))


def saved(action: Callable[..., Any], *args: Any, message: str = "Saved") -> bool:
    """Run an edit; show its error instead of crashing (nothing is saved when it fails)."""
    try:
        action(*args)
    except USER_ERRORS as exc:
        show_error(exc)
        return False
    st.session_state["toast"] = message
    return True


def toast() -> None:
    """Show the message an edit left before its page reran."""
    if msg := st.session_state.pop("toast", None):
        st.toast(msg)


def guide_names() -> list[str]:
    return list_guides(settings())


def studio_menus() -> None:
    """The sidebar's Guide and Editing language menus, drawn by the entry script on every page.

    The guide and the editing language are the studio's, not a page's: kept for the session and
    in the address (``?guide=NAME&lang=xx``), so another page, a reload or a bookmark opens the
    same guide in the same language."""
    names = guide_names()
    if not names:
        return
    start = st.session_state.get("start_guide")
    with st.sidebar:
        name = _kept_selectbox("Guide", names, start if start in names else names[0], "guide")
        try:
            guide = load_guide(name, settings()).guide
        except USER_ERRORS:
            return  # the page that needs it says what is wrong
        _kept_selectbox("Editing language", guide.languages, guide.default_language, "lang")


def current_guide(required: bool = True) -> GuideRef | None:
    """The guide chosen in the sidebar, read fresh from disk (None, or the page stops, if none)."""
    names = guide_names()
    ss = st.session_state
    if not names:
        if required:
            st.info("No guide yet: create one on the **Guide** page.")
            st.stop()
        return None
    name = ss.get("guide")
    try:
        ref = load_guide(name if isinstance(name, str) and name in names else names[0], settings())
    except USER_ERRORS as exc:
        show_error(exc)
        st.stop()
        return None
    # A button pressed now acts on the page as it was drawn in the previous run: edits are made
    # against that copy, so one saved meanwhile by another curator is refused, not overwritten.
    drawn = ss.get("_drawn_ref")
    ss["_edit_base"] = drawn if drawn is not None and drawn.root == ref.root else ref
    ss["_drawn_ref"] = ref
    return ref


def _kept_selectbox(label: str, options: list[str], default: str, key: str) -> str:
    """A sidebar menu whose choice belongs to the session (``st.session_state[key]``, kept across
    pages) and to the address (``?key=value``, kept by a reload or a bookmark)."""
    ss = st.session_state
    if ss.get(key) not in options:  # a new session, a guide deleted, a language the guide lacks
        asked = st.query_params.get(key)
        ss[key] = asked if asked in options else default
    menu = f"{key}_menu"
    ss[menu] = ss[key]  # the menu shows the session's choice, whichever page drew it last
    st.selectbox(label, options, key=menu, on_change=_keep, args=(menu, key))
    st.query_params[key] = ss[key]
    return ss[key]


def _keep(menu: str, key: str) -> None:
    st.session_state[key] = st.session_state[menu]


def edit_base(ref: GuideRef) -> GuideRef:
    """The guide as the curator saw it when they pressed the button (the previous run's copy);
    edits of an artwork someone else saved since are then refused with a clear message."""
    base = st.session_state.get("_edit_base")
    return base if base is not None and base.root == ref.root else ref


def language(ref: GuideRef) -> str:
    """The language the curator edits texts in (chosen in the sidebar: :func:`studio_menus`)."""
    lang = st.session_state.get("lang")
    return lang if lang in ref.guide.languages else ref.guide.default_language


def section(label: str, key: str, expanded: bool = False):
    """An expander that stays as the curator left it across saves and reruns, even when its label
    changes (a new title in it): Streamlit names an expander by its label too, and a new one
    starts closed."""
    ss = st.session_state
    box = st.expander(label, expanded=ss.get(f"{key}-was-open", expanded), key=key, on_change="rerun")
    ss[f"{key}-was-open"] = bool(box.open)
    return box


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def job_panel(guide: str, kind: str, chart: bool = False, limit: int = 5) -> None:
    """The guide's jobs of one kind, as they are on disk (refreshed every 2 s while one runs)."""
    from smartlens.jobs import cancel_job, list_jobs

    @st.fragment(run_every=2)
    def panel() -> None:
        jobs = list_jobs(settings(), guide, kind)[:limit]
        # a job seen running that has ended changes more than this panel (a new model to publish,
        # views to train on): the whole page is drawn again
        seen = st.session_state.setdefault("running_jobs", set())
        running = {j.id for j in jobs if j.running}
        ended = {j.id for j in jobs if not j.running} & seen
        seen.difference_update(ended)
        seen.update(running)
        if ended:
            st.rerun()
        if not jobs:
            st.caption("No job of this kind yet.")
        for job in jobs:
            s = job.status
            head = f"**{job.state}** · started {time.strftime('%d %b %H:%M', time.localtime(s.created))}"
            head += f" · {duration(job.seconds)}"
            with st.container(border=True):
                st.markdown(head)
                if job.running:
                    left = job.seconds_left
                    when = "finishing" if left is not None and left < 1 else f"about {duration(left)} left"
                    if s.ends_at is not None and left is not None and left >= 1:
                        # the end itself too: what a slow redraw cannot make stale
                        when += f", until {time.strftime('%H:%M:%S', time.localtime(s.ends_at))}"
                    st.progress(s.fraction, text=f"{plain(s.message)} — {when}")
                    if st.button("Cancel", key=f"cancel-{job.id}"):
                        try:
                            with st.spinner("Stopping (a training keeps its best model so far)..."):
                                cancel_job(job.id, settings())
                        except USER_ERRORS as exc:
                            show_error(exc)
                        else:
                            st.rerun()
                elif s.result.get("summary") or (job.state == "cancelled" and s.message):
                    # what a finished job left: a training names the model it kept, and its figures
                    st.info(plain(s.message if job.state == "cancelled" else s.result["summary"]))
                shown = {k: v for k, v in s.metrics.items() if k not in ("done", "total")}
                if shown:
                    st.caption(" · ".join(f"{k} {v}" for k, v in shown.items()))
                if chart:
                    curve = training_curve(job.progress_lines())
                    if not curve.empty:
                        st.line_chart(curve, x="epoch", y=[c for c in curve.columns if c != "epoch"])
                if s.error:
                    st.error(plain(s.error.splitlines()[-1] if s.error.strip() else s.error))
                if job.state in ("failed", "cancelled"):
                    with st.expander("Log"):
                        st.code(job.log_tail(), language=None)

    panel()


def training_curve(lines: list[dict]) -> pd.DataFrame:
    """Loss and accuracy per epoch from a job's progress lines."""
    rows = []
    for line in lines:
        m = line.get("metrics") or {}
        msg = str(line.get("message", ""))
        if line.get("stage") == "training" and msg.startswith("epoch ") and m:
            epoch = int(msg.split()[1].split("/")[0])
            shown = ("loss", "val_accuracy", "val_map50")
            rows.append({"epoch": epoch, **{k: v for k, v in m.items() if k in shown}})
    return pd.DataFrame(rows)
