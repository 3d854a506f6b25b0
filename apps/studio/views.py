"""Training views: preview the changes a training applies, and make the views a training will
read, in the background (a process of SmartLens' own CLI)."""

from __future__ import annotations

import streamlit as st
from params_form import params_form
from shared import current_guide, job_panel, settings, show_error, toast

from smartlens.augment.engine import AugmentParams, preview
from smartlens.errors import USER_ERRORS
from smartlens.jobs import JobSpec, start_job
from smartlens.methods import trainable
from smartlens.vocabulary import Preset

#: The training parameters that decide which views are made.
VIEW_PARAMS = {"per_image", "negatives", "val_per_image", "val_negatives", "preset", "input_size", "seed"}

ss = st.session_state
toast()
st.header("Training views")
ref = current_guide()
assert ref is not None
st.caption(
    "A classifier learns from many changed views of each artwork and detail (angles, light, blur, "
    "people in front). Make them ahead of training here, or let the training make them."
)
learned = {spec.title: spec for spec in trainable()}
picked = learned[st.selectbox("For a training of", list(learned))]
training = picked.training
assert training is not None
# the parameters that decide the views (the same widgets and defaults as the Train page's)
values = params_form(training.params, f"views-{picked.name}", VIEW_PARAMS)
preset = values.get("preset", Preset.MEDIUM)
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
            JobSpec("views", ref.guide.name, {"method": picked.name, **values}),
            settings(),
        )
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        ss.toast = "Started: progress below"
        st.rerun()
st.subheader("Jobs")
job_panel(ref.guide.name, "views")
