"""SmartLens Studio — for curators and staff.

Run with ``python -m smartlens studio`` (or ``./run.sh studio``). Build the guide (artworks,
texts per language, detail boxes drawn on the pictures), preview and generate training views,
train recognisers in the background, try them on pictures, see what visitors looked at, and
print the lens' QR code.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import streamlit as st

from smartlens.analytics.stats import query
from smartlens.augment.engine import AugmentParams, generate, preview
from smartlens.augment.transforms import BLOCKS
from smartlens.config import load_settings
from smartlens.drawing import draw
from smartlens.errors import USER_ERRORS, ImageError
from smartlens.escaping import plain
from smartlens.guide import edit as guide_edit
from smartlens.guide import list_guides, load_guide
from smartlens.imaging import decode_image, read_image
from smartlens.jobs import Job, JobManager
from smartlens.model_store import list_models, read_info
from smartlens.qr import qr_bytes
from smartlens.recognition import load_recognizer
from smartlens.vocabulary import BackboneSize, Method, Preset, choices

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides real messages
st.set_page_config(page_title="SmartLens Studio", page_icon=":material/palette:", layout="wide")
settings = load_settings()


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--guide", default="demo")
    return p.parse_known_args(sys.argv[1:])[0]


@st.cache_resource
def jobs() -> JobManager:
    return JobManager()  # one per server: jobs outlive page reloads


@st.cache_resource(show_spinner="Loading the recogniser…")
def recognizer(root: str, method: str, fingerprint: str):
    return load_recognizer(load_guide(root, settings), settings, method)


# --- choose the guide -----------------------------------------------------------------------
with st.sidebar:
    st.title("SmartLens Studio")
    if "demo" not in list_guides(settings) and st.button("Create the demo guide"):
        from smartlens.guide.demo import ensure_demo

        ensure_demo(settings)
    names = list_guides(settings)
    if not names:
        st.info("No guide yet: create the demo guide, or import one with `python -m smartlens guide import`.")
        st.stop()
    default = options().guide if options().guide in names else names[0]
    name = st.selectbox("Guide", names, index=names.index(default))
    try:
        ref = load_guide(name, settings)
    except USER_ERRORS as exc:
        st.error(plain(str(exc)))
        st.stop()
    guide = ref.guide
    lang = st.selectbox("Editing language", guide.languages)
    st.caption(
        f"{len(guide.artworks)} artworks · {sum(len(a.details) for a in guide.artworks)} details · "
        f"languages {', '.join(guide.languages)}"
    )

tabs = st.tabs(["Guide", "Annotate", "Training views", "Train", "Try", "Visitors", "Share"])


def saved(action, *args) -> None:
    """Run an edit; show its error instead of crashing (nothing is saved when it fails)."""
    try:
        action(*args)
    except USER_ERRORS as exc:  # messages quote guide texts: shown as typed, never as markup
        st.error(plain(str(exc)))
    else:
        st.toast("Saved")
        st.rerun()


# --- guide: artworks and their texts ----------------------------------------------------------
with tabs[0]:
    missing = guide_edit.missing_translations(guide)
    if missing:
        with st.expander(f"{len(missing)} texts still to translate"):
            st.write("\n".join(f"- {plain(m)}" for m in missing))
    for art in guide.artworks:
        with st.expander(f"{plain(guide.text(art.title, lang))} — {art.id}"):
            c1, c2 = st.columns([1, 2])
            c1.image(str(ref.path(art.image)), width=260)
            with c2.form(f"texts-{art.id}"):
                title = st.text_input("Title", art.title.get(lang, ""))
                author = st.text_input("Author", art.author.get(lang, ""))
                year = st.text_input("Year", art.year.get(lang, ""))
                desc = st.text_area("Description", art.description.get(lang, ""))
                if st.form_submit_button(f"Save texts ({lang})"):
                    saved(guide_edit.set_texts, ref, art.id, lang, title, author, year, desc)
            if st.button("Remove this artwork", key=f"rm-{art.id}"):
                saved(guide_edit.remove_artwork, ref, art.id)
    with st.form("add"):
        st.subheader("Add an artwork")
        up = st.file_uploader("Picture", type=["jpg", "jpeg", "png", "webp"])
        title = st.text_input(f"Title ({lang})")
        if st.form_submit_button("Add") and up is not None:
            saved(
                guide_edit.add_artwork, ref, up.getvalue(), up.name, title, lang, 2400, settings.image_limits
            )

# --- annotate: draw detail boxes on the picture -----------------------------------------------------
with tabs[1]:
    from PIL import Image
    from streamlit_drawable_canvas import boxes_to_drawing, st_canvas

    if guide.artworks:
        art = guide.artwork(st.selectbox("Artwork", [a.id for a in guide.artworks], key="ann-art"))
        scale = min(1.0, 720 / art.width)
        picture = Image.fromarray(
            read_image(ref.path(art.image))[:, :, ::-1]
        )  # upright, as recognition sees it
        initial = boxes_to_drawing(
            [
                {
                    "label": d.id,
                    "left": d.box[0] * scale,
                    "top": d.box[1] * scale,
                    "width": d.box[2] * scale,
                    "height": d.box[3] * scale,
                }
                for d in art.details
            ],
            stroke_color="#ffc828",
            stroke_width=2,
            fill_color="rgba(255,200,40,0.12)",
        )
        st.caption(
            "Draw a box round each detail; the toolbar's edit toggle moves, resizes or deletes boxes and "
            "relabels the selected one. The label is the detail's id."
        )
        new_label = st.text_input(
            "Label (id) for the next box", f"detail-{len(art.details) + 1}", key="ann-label"
        )
        canvas = st_canvas(
            fill_color="rgba(255,200,40,0.12)",
            stroke_color="#ffc828",
            stroke_width=2,
            background_image=picture,
            drawing_mode="labeled_rect",
            label=new_label,
            initial_drawing=initial,
            width=int(art.width * scale),
            height=int(art.height * scale),
            font_size=14,
            key=f"canvas-{art.id}",
        )
        rows = []
        for i, b in enumerate(canvas.boxes_in_image_space or []):
            old = next((d for d in art.details if d.id == b["label"]), None)
            c1, c2, c3 = st.columns([1, 2, 3])
            det_id = c1.text_input("id", b["label"] or f"detail-{i + 1}", key=f"id-{art.id}-{i}")
            nm = c2.text_input(
                f"name ({lang})", old.name.get(lang, "") if old else "", key=f"nm-{art.id}-{i}"
            )
            ds = c3.text_input(
                f"text ({lang})", old.description.get(lang, "") if old else "", key=f"ds-{art.id}-{i}"
            )
            box = (max(0, b["left"]), max(0, b["top"]), b["width"], b["height"])
            rows.append((det_id, box, nm, ds))
        if st.button("Save details", type="primary"):
            saved(guide_edit.set_details, ref, art.id, rows, lang)
        others = list_guides(settings)
        with st.expander("Pre-annotate from an existing recogniser"):
            src = st.selectbox("Use the index of guide", others, index=others.index(name))
            if st.button("Propose boxes on this picture"):
                src_ref = load_guide(src, settings)
                found = guide_edit.propose_boxes(
                    recognizer(str(src_ref.root), Method.RETRIEVAL, src_ref.fingerprint),
                    read_image(ref.path(art.image)),
                )
                st.write(plain(repr(found)) if found else "Nothing recognised in this picture.")

# --- training views: preview and generate -------------------------------------------------
with tabs[2]:
    c1, c2, c3 = st.columns(3)
    preset = c1.selectbox("Preset", choices(Preset), index=choices(Preset).index(Preset.MEDIUM))
    per_image = c2.number_input("Views per artwork (and per detail)", 1, 500, 20)
    blocks = c3.multiselect("Only these changes (empty: all)", list(BLOCKS))
    params = AugmentParams(
        per_image=int(per_image), preset=preset, blocks=tuple(blocks) or None, negatives=20
    )
    if st.button("Preview"):
        try:
            st.image([im[:, :, ::-1] for im in preview(ref, params, n=8)], width=220)
        except USER_ERRORS as exc:
            st.error(plain(str(exc)))
    if st.button("Generate in the background"):
        out = settings.data / "augmented" / name / preset

        def work(job: Job):
            return generate(ref, out, params, force=True, progress=job.report)

        jobs().start(f"augment {name}", work)
        st.toast("Started: see the Train tab's job list")

# --- train -----------------------------------------------------------------------------------
with tabs[3]:
    from smartlens.training.classification import TrainParams, train_classifier

    c1, c2, c3 = st.columns(3)
    budget = c1.number_input("Time budget (minutes)", 1, 240, 20)
    size = c2.selectbox("Network", choices(BackboneSize))
    epochs = c3.number_input("Epochs (at most)", 1, 200, 30)
    if st.button("Train a classifier", type="primary"):

        def work(job: Job):
            return train_classifier(
                ref,
                settings,
                TrainParams(epochs=int(epochs), size=size, budget_minutes=float(budget)),
                progress=job.report,
                stop=job.stop,
            )

        jobs().start(f"train {name}", work)

    @st.fragment(run_every=2)
    def job_list() -> None:
        for job in jobs().jobs()[:6]:
            st.write(f"**{plain(job.name)}** — {job.state} — {plain(job.message)}")
            if job.running:
                st.progress(job.fraction)
                if st.button("Stop", key=f"stop-{job.id}"):
                    job.stop.set()
            if job.metrics:
                st.caption(" · ".join(f"{k} {v}" for k, v in job.metrics.items()))
            if job.error:
                st.error(plain(job.error.splitlines()[0]))

    job_list()
    st.subheader("Models")
    for model in reversed(list_models(name, settings)):
        info = read_info(model)
        with st.expander(
            f"{model.name} — {info.get('route')} — {info.get('weights', {}).get('source')} weights"
        ):
            metrics_path = model / "metrics.json"
            if metrics_path.is_file():
                metrics = json.loads(metrics_path.read_text())
                st.json(metrics["held_out"])
                curves = {k: v for k, v in metrics.get("history", {}).items() if "accuracy" in k}
                if curves:  # the training curve, drawn from the history
                    st.line_chart(curves, x_label="epoch", y_label="accuracy")

# --- try a recogniser on pictures -------------------------------------------------------------
with tabs[4]:
    method = st.radio("Method", [Method.RETRIEVAL, Method.CLASSIFICATION], horizontal=True)
    files = st.file_uploader("Pictures", type=["jpg", "jpeg", "png", "webp"], accept_multiple_files=True)
    if files:
        try:
            rec = recognizer(str(ref.root), method, ref.fingerprint)
        except USER_ERRORS as exc:
            st.error(plain(str(exc)))
        else:
            cols = st.columns(3)
            for i, f in enumerate(files):
                with cols[i % 3]:
                    try:
                        img = decode_image(f.getvalue(), f.name, settings.image_limits)
                    except ImageError as exc:
                        st.error(plain(str(exc)))
                        continue
                    r = rec.recognize(img)
                    labels: dict[str, str] = {}
                    if r.artwork:
                        labels = {d.id: guide.text(d.name, lang) for d in guide.artwork(r.artwork).details}
                    st.image(np.ascontiguousarray(draw(img, r, labels)[:, :, ::-1]), caption=f.name)
                    st.write(
                        f"**{plain(guide.text(guide.artwork(r.artwork).title, lang)) if r.artwork else 'nothing'}**"
                        f" (score {r.score:.2f}, {r.ms:.0f} ms)"
                    )

# --- visitors: anonymous statistics ----------------------------------------------------------
with tabs[5]:
    db = settings.events_db
    by_day = query(db, "by_day", name)
    if by_day.empty:
        st.info("No visits recorded for this guide yet.")
    else:
        st.subheader("Visits per day")
        st.bar_chart(by_day, x="day", y=["visits", "artworks_recognised"])
        c1, c2 = st.columns(2)
        with c1:
            st.subheader("Artworks")
            st.bar_chart(query(db, "artworks", name), x="artwork", y="recognised", horizontal=True)
        with c2:
            st.subheader("Details")
            st.dataframe(query(db, "details", name), hide_index=True)
        c1, c2, c3 = st.columns(3)
        c1.subheader("Languages")
        c1.dataframe(query(db, "languages", name), hide_index=True)
        c2.subheader("Audio, video, read-aloud")
        c2.dataframe(query(db, "media", name), hide_index=True)
        c3.subheader("Methods")
        c3.dataframe(query(db, "methods", name), hide_index=True)

# --- share: the lens' address as a QR code -----------------------------------------------------
with tabs[6]:
    from smartlens.tls import lan_addresses

    hosts = [a for a in lan_addresses() if a != "127.0.0.1"] or ["localhost"]
    url = st.text_input("Lens address", f"https://{hosts[0]}:8501/")
    if url:
        png = qr_bytes(url, "png", 8)
        st.image(png, width=260)
        st.download_button("Download PNG", png, "smartlens-qr.png", "image/png")
        st.download_button("Download SVG", qr_bytes(url, "svg", 8), "smartlens-qr.svg", "image/svg+xml")
    st.caption(
        "Phones open the camera only on https:// pages: start the lens with "
        "`python -m smartlens lens --https` (a self-signed certificate is made once)."
    )
