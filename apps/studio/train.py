"""Train and publish: start a training (a background process), watch it (progress, time left,
the training curve), list the models with their held-out figures, and choose what the lens uses."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st
from shared import current_guide, job_panel, settings, show_error, toast, view_counts

from smartlens.errors import USER_ERRORS
from smartlens.jobs import JobSpec, start_job
from smartlens.model_store import list_models, read_info, read_model_json
from smartlens.publish import publish, read_published, unpublish
from smartlens.vocabulary import BackboneSize, Method, RetrievalMode, choices

ss = st.session_state
toast()
st.header("Train and publish")
ref = current_guide()
assert ref is not None
name = ref.guide.name

with st.form("train"):
    c1, c2, c3, c4 = st.columns(4)
    method = c1.selectbox("Method", [Method.CLASSIFICATION, Method.DETECTION])
    budget = c2.number_input("Time budget (minutes, views included)", 0.1, 240.0, 20.0, step=0.5)
    size = c3.selectbox("Network", choices(BackboneSize))
    epochs = c4.number_input("Epochs (at most)", 1, 200, 30)
    c5, c6, c7 = st.columns(3)
    per_image = c5.number_input("Views per artwork (and per detail)", 1, 500, 80)
    negatives = c6.number_input("Views with no artwork", 0, 5000, 400)
    tflite = bool(settings().weights and str(settings().weights).endswith(".tflite"))
    frozen = c7.checkbox(
        "Train only a head on the pretrained features (fast)",
        value=tflite,
        disabled=not tflite,
        help="Needs a .tflite feature extractor as the weights setting (SMARTLENS_WEIGHTS).",
    )
    if st.form_submit_button("Start training", type="primary"):
        params: dict[str, object] = {
            "method": method,
            "budget_minutes": float(budget),
            "epochs": int(epochs),
            **view_counts(int(per_image), int(negatives)),
        }
        if method == Method.CLASSIFICATION:
            params["size"] = size
            params["frozen_features"] = bool(frozen and tflite)
        try:
            start_job(JobSpec("train", name, params), settings())
        except USER_ERRORS as exc:
            show_error(exc)
        else:
            ss.toast = "Training started: progress below"
            st.rerun()

st.subheader("Trainings")
job_panel(name, "train", chart=True)


# --- models and publishing ------------------------------------------------------------------------
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
                "held-out top-1 %": held.get("top1"),
                "negatives accepted %": held.get("negatives_fp"),
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
options = [f"{Method.RETRIEVAL} ({m})" for m in choices(RetrievalMode)] + list(
    table["model"] if not table.empty else []
)
choice = st.selectbox("Publish", options, key="publish-choice")
p1, p2 = st.columns(2)
if p1.button("Publish", type="primary") and choice:
    try:
        if choice.startswith(Method.RETRIEVAL):
            entry = publish(name, settings(), Method.RETRIEVAL, choice.split("(")[1].rstrip(")"))
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
