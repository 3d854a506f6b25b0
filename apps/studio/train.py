"""Train and publish: start a training (a background process), watch it (progress, time left,
the training curve), list the models with their held-out figures, and choose what the lens uses."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from params_form import params_form
from shared import current_guide, job_panel, settings, show_error, toast

from smartlens.errors import USER_ERRORS
from smartlens.jobs import JobSpec, start_job
from smartlens.methods import METHODS, trainable
from smartlens.model_store import list_models, read_info, read_model_json
from smartlens.publish import publish, read_published, unpublish

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
with st.form(f"train-{picked.name}"):
    values = params_form(training.params, f"train-{picked.name}")
    if st.form_submit_button("Start training", type="primary"):
        try:
            start_job(JobSpec("train", name, {"method": picked.name, **values}), settings())
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            ss.toast = "Training started: progress below"
            st.rerun()

st.subheader("Trainings")
job_panel(name, "train", chart=True)


# --- models and publishing ------------------------------------------------------------------------
def figures(method: str, held: dict) -> str:
    """One line of a model's held-out figures, as its method words them."""
    spec = METHODS.get(method)
    return spec.training.figures(held) if spec and spec.training else ""


@st.cache_data(ttl=10, show_spinner=False)
def model_table(guide: str, revision: int) -> pd.DataFrame:
    rows = []
    for model in reversed(list_models(guide, settings())):
        try:
            info = read_info(model)
            metrics = read_model_json(model, "metrics.json", dict)
        except USER_ERRORS:
            continue
        held, gate = metrics.get("held_out", {}), metrics.get("open_set_gate") or {}
        rows.append(
            {
                "model": model.name,
                "method": info.get("method"),
                "trained": time.strftime("%d %b %H:%M", time.localtime(info.get("created", 0))),
                "minutes": round(info.get("seconds", 0) / 60, 1),
                "held-out figures": figures(str(info.get("method")), held),
                # the gate that refuses paintings not in the guide, and what it costs on good frames
                "refuses other paintings": (
                    f"yes (keeps {100 * gate['held_out_right_kept']:.0f}% of right answers)"
                    if gate.get("available") and gate.get("held_out_right_kept") is not None
                    else "no (needs the TFLite weights)"
                    if gate
                    else "no (trained before the gate: run smartlens gate)"
                ),
            }
        )
    return pd.DataFrame(rows)


st.subheader("Models")
table = model_table(name, len(list_models(name, settings())))
if table.empty:
    st.caption("No trained model yet.")
else:
    st.dataframe(table, hide_index=True)

st.subheader("What the lens uses")
current = read_published(name, settings())
st.write(f"Published: **{current.label if current else 'nothing (the lens uses retrieval)'}**")
# what needs no training, by variant; then every trained model
untrained = {
    f"{spec.name} ({mode})" if mode else spec.name: (spec.name, mode)
    for spec in METHODS.values()
    if spec.training is None
    for mode in (spec.modes or (None,))
}
options = list(untrained) + list(table["model"] if not table.empty else [])
choice = st.selectbox("Publish", options, key="publish-choice")
p1, p2 = st.columns(2)
if p1.button("Publish", type="primary") and choice:
    try:
        if choice in untrained:
            entry = publish(name, settings(), *untrained[choice])
        else:
            method_of = str(table.set_index("model").loc[choice, "method"])
            entry = publish(name, settings(), method_of, model=choice)
    except USER_ERRORS as exc:
        show_error(exc)
    else:
        ss.toast = f"Published {entry.label}: the lens uses it from its next visitor"
        st.rerun()
if current and p2.button("Back to the default (retrieval)"):
    unpublish(name, settings())
    st.rerun()
