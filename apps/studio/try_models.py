"""Try and compare: run one or two recognisers on pictures and show boxes, labels and scores
side by side. Nothing is computed until the button is pressed (editing does not rerun it)."""

from __future__ import annotations

import numpy as np
import streamlit as st
from shared import current_guide, language, settings, show_error

from smartlens.drawing import draw
from smartlens.errors import USER_ERRORS, ImageError
from smartlens.escaping import plain
from smartlens.guide import load_guide
from smartlens.heap import freeze_loaded
from smartlens.imaging import decode_image
from smartlens.methods import METHODS, load_recognizer
from smartlens.model_store import guide_models_dir, list_models, read_info

#: Recognisers that need no trained model, by variant ('retrieval/verified', ...).
untrained = [v for spec in METHODS.values() if spec.training is None for v in spec.variants()]

ss = st.session_state
st.header("Try and compare")
ref = current_guide()
assert ref is not None
guide = ref.guide
lang = language(ref)


@st.cache_resource(max_entries=2, show_spinner="Loading the recogniser…")
def recognizer(root: str, choice: str, fingerprint: str):
    """One recogniser per choice; at most two in memory (the two compared)."""
    at = load_guide(root, settings())  # the guide as it is now (its fingerprint is in the key)
    if choice in untrained:
        rec = load_recognizer(at, settings(), choice)
    else:
        folder = guide_models_dir(at.guide.name, settings()) / choice
        rec = load_recognizer(at, settings(), read_info(folder)["method"], model=str(folder))
    freeze_loaded()  # the jobs panel's runs, every 2 s, no longer collect TensorFlow's objects
    return rec


options = untrained + [m.name for m in reversed(list_models(guide.name, settings()))]
chosen = st.multiselect(
    "Recognisers (one, or two to compare)", options, default=options[:1], max_selections=2
)
files = st.file_uploader("Pictures", type=["jpg", "jpeg", "png", "webp"], accept_multiple_files=True)
if st.button("Run", type="primary", disabled=not (files and chosen)):
    results: dict[tuple[str, str], str | tuple[np.ndarray, str]] = {}
    for choice in chosen:
        try:
            rec = recognizer(str(ref.root), choice, ref.fingerprint)
        except USER_ERRORS as exc:
            show_error(exc)
            continue
        for f in files or []:
            try:
                img = decode_image(f.getvalue(), f.name, settings().image_limits)
            except ImageError as exc:
                results[(choice, f.name)] = str(exc)
                continue
            r = rec.recognize(img)
            labels = {}
            if r.artwork:
                labels = {d.id: guide.text(d.name, lang) for d in guide.artwork(r.artwork).details}
            title = guide.text(guide.artwork(r.artwork).title, lang) if r.artwork else "nothing"
            results[(choice, f.name)] = (
                np.ascontiguousarray(draw(img, r, labels)[:, :, ::-1]),
                f"**{plain(title)}** (score {r.score:.2f}, {r.ms:.0f} ms) · details: "
                + (", ".join(f"{d.id} {d.score:.2f}" for d in r.details) or "-"),
            )
    ss.try_results = (chosen, [f.name for f in files or []], results)

if ss.get("try_results"):
    chosen_then, names, results = ss.try_results
    cols = st.columns(len(chosen_then))
    for col, choice in zip(cols, chosen_then):
        col.subheader(choice)
        for n in names:
            res = results.get((choice, n))
            if isinstance(res, str):
                col.error(plain(res))
            elif res:
                col.image(res[0], caption=n)
                col.markdown(res[1])
