"""Training views: preview the changes a training applies, and make the views a training will
read, in the background (a process of SmartLens' own CLI)."""

from __future__ import annotations

import streamlit as st
from shared import current_guide, job_panel, settings, show_error, toast, view_counts

from smartlens.augment.engine import AugmentParams, preview
from smartlens.errors import USER_ERRORS
from smartlens.jobs import JobSpec, start_job
from smartlens.vocabulary import Preset, choices

ss = st.session_state
toast()
st.header("Training views")
ref = current_guide()
assert ref is not None
st.caption(
    "A classifier learns from many changed views of each artwork and detail (angles, light, blur, "
    "people in front). Make them ahead of training here, or let the training make them."
)
c1, c2, c3 = st.columns(3)
preset = c1.selectbox("Preset", choices(Preset), index=choices(Preset).index(Preset.MEDIUM))
per_image = int(c2.number_input("Views per artwork (and per detail)", 1, 500, 80))
negatives = int(c3.number_input("Views with no artwork", 0, 5000, 400))
if st.button("Preview 8 views"):
    try:
        ss.preview = [im[:, :, ::-1] for im in preview(ref, AugmentParams(per_image=8, preset=preset), n=8)]
    except USER_ERRORS as exc:
        show_error(exc)
if ss.get("preview"):
    st.image(ss.preview, width=200)
if st.button("Make the training views", type="primary"):
    try:
        start_job(
            JobSpec("views", ref.guide.name, {**view_counts(per_image, negatives), "preset": preset}),
            settings(),
        )
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        ss.toast = "Started: progress below"
        st.rerun()
st.subheader("Jobs")
job_panel(ref.guide.name, "views")
