"""Train and publish: start a training (a background process), watch it (each phase's progress,
the time left of its budget, the training curve), list the models by method, date and report-set
figures, set how strictly each one's open-set gate refuses, and choose what the lens uses."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from params_form import ignored, params_form, route_toggles
from shared import current_guide, job_panel, settings, show_error, toast

from smartlens.errors import USER_ERRORS
from smartlens.jobs import JobSpec, start_job
from smartlens.methods import METHODS, trainable
from smartlens.methods.catalogue import ModelSummary, guide_models
from smartlens.methods.gate import set_gate_threshold
from smartlens.methods.open_set import read_gate, read_setting
from smartlens.model_store import guide_models_dir
from smartlens.publish import publish, read_published, unpublish
from smartlens.training.check_photos import CHECKS_DIR, count_check_photos
from smartlens.training.negatives import CHECK_DIR, NEGATIVES_DIR, count_negative_pictures

ss = st.session_state
toast()
st.header("Train and publish")
ref = current_guide()
assert ref is not None
name = ref.guide.name

learned = {spec.title: spec for spec in trainable()}
picked = learned[st.selectbox("Method", list(learned), help="How the lens will recognise: see the README")]
st.caption(f"{picked.title}: {picked.experience}.")
training = picked.training
assert training is not None
checks = count_check_photos(ref)
st.caption(
    f"Check photos: {sum(checks.values())} ({', '.join(f'{a} {n}' for a, n in checks.items())}). Phone photos "
    f"of each artwork in the guide's `{CHECKS_DIR}/<artwork id>/` folder are used only to validate and report "
    "a training, never to train."
)
trained_on, kept = count_negative_pictures(ref)
st.caption(
    f"Negative pictures: {trained_on} in `{NEGATIVES_DIR}/` (other works, rooms: trained on), {kept} in "
    f"`{NEGATIVES_DIR}/{CHECK_DIR}/` (kept for checking: only the report shows them, so it tells how a model "
    "does beside works it never saw)."
)
routes = route_toggles(training.params, f"train-{picked.name}")
with st.form(f"train-{picked.name}"):
    values = params_form(
        training.params, f"train-{picked.name}", skip=set(routes) | ignored(training.params, routes)
    )
    if st.form_submit_button("Start training", type="primary"):
        try:
            start_job(JobSpec("train", name, {"method": picked.name, **routes, **values}), settings())
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            ss.toast = "Training started: progress below"
            st.rerun()

st.subheader("Trainings")
job_panel(name, "train", chart=True)


# --- models, their gates and publishing -------------------------------------------------------------
@st.cache_data(ttl=10, show_spinner=False)
def models(guide: str, revision: int) -> list[ModelSummary]:
    return guide_models(guide, settings())


# a model trained, or its gate rebuilt, changes its metrics.json: the list is read again
summaries = models(
    name, sum(p.stat().st_mtime_ns for p in guide_models_dir(name, settings()).glob("*/metrics.json"))
)
st.subheader("Models")
if not summaries:
    st.caption("No trained model yet.")
else:
    st.caption(
        "Figures of each model's report set: views unlike its training views (another camera, rooms, "
        "paintings it never saw) and the check photos, on which no choice was made."
    )
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "model": m.name,
                    "method": m.title,
                    "trained": m.date,
                    "minutes": m.minutes,
                    "report-set figures": m.figures,
                    "refuses other paintings": m.gate_line,
                }
                for m in summaries
            ]
        ),
        hide_index=True,
    )

by_label = {m.label: m for m in summaries}
gated = [m for m in summaries if m.gate.get("available")]
if gated:
    st.subheader("How strictly each model refuses")
    chosen_model = by_label[st.selectbox("Model", [m.label for m in gated], key="gate-model")]
    folder = guide_models_dir(name, settings()) / chosen_model.name
    gate = read_gate(folder)
    curve = {p["min_inliers"]: p for p in chosen_model.gate.get("curve", [])}
    if gate is not None and curve:

        def said(n: int) -> str:
            p = curve[n]
            return (
                f"{n} keypoints: names {100 * (p['right'] or 0):.0f}% right, "
                f"{100 * (p['negatives_named'] or 0):.1f}% of negatives, "
                f"{100 * (p['other_paintings_named'] or 0):.1f}% of other paintings"
            )

        calibrated = int(chosen_model.gate["min_inliers"])
        current = read_setting(folder) or calibrated
        st.caption(
            "An answer stands when this many of the artwork's keypoints agree with the frame. Fewer: more "
            "frames of the guide's paintings named, and more of what is not in the guide; more: the reverse. "
            f"Calibrated: {calibrated} (keeps {100 * (chosen_model.gate.get('kept') or 0):.0f}% of the right "
            "answers on the validation views). Figures on the validation views."
        )
        level = st.select_slider(
            "Agreeing keypoints needed",
            list(curve),
            value=current,
            format_func=said,
            key=f"gate-{chosen_model.name}",
        )
        g1, g2 = st.columns(2)
        if g1.button("Save this setting", key="gate-save"):
            try:
                set_gate_threshold(folder, None if level == calibrated else int(level))
                published = read_published(name, settings())
                if published is not None and published.model == chosen_model.name:
                    publish(name, settings(), published.method, model=published.model)  # the lens reloads it
            except USER_ERRORS as exc:
                show_error(exc)
            else:
                ss.toast = f"{chosen_model.name}: the gate now needs {level} agreeing keypoints"
                st.rerun()
        if current != calibrated and g2.button("Back to the calibrated setting", key="gate-reset"):
            set_gate_threshold(folder, None)
            st.rerun()

st.subheader("What the lens uses")
current_pub = read_published(name, settings())
st.write(f"Published: **{current_pub.label if current_pub else 'nothing (the lens uses retrieval)'}**")
# what needs no training, by variant; then every trained model, named by method, date and figures
untrained = {
    f"{spec.title} ({mode}), no training" if mode else f"{spec.title}, no training": (spec.name, mode)
    for spec in METHODS.values()
    if spec.training is None
    for mode in (spec.modes or (None,))
}
options = list(untrained) + list(by_label)
choice = st.selectbox("Publish", options, key="publish-choice")
p1, p2 = st.columns(2)
if p1.button("Publish", type="primary") and choice:
    try:
        if choice in untrained:
            entry = publish(name, settings(), *untrained[choice])
        else:
            picked_model = by_label[choice]
            entry = publish(name, settings(), picked_model.method, model=picked_model.name)
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        ss.toast = f"Published {entry.label}: the lens uses it from its next visitor"
        st.rerun()
if current_pub and p2.button("Back to the default (retrieval)"):
    unpublish(name, settings())
    st.rerun()
