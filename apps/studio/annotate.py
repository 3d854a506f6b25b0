"""Annotate details: draw boxes on an artwork (kept in image pixels whatever the display size),
name them or give them a concept, save; accept or reject proposed boxes one by one."""

from __future__ import annotations

import cv2
import numpy as np
import streamlit as st
from shared import current_guide, edit_base, language, saved, section, settings, show_error, toast

from smartlens.errors import USER_ERRORS
from smartlens.escaping import plain
from smartlens.guide import edit as guide_edit
from smartlens.guide import proposals as proposal_store
from smartlens.imaging import encode_jpeg, fit_within, read_image

DISPLAY_WIDTH = 720
ss = st.session_state
toast()
st.header("Annotate details")
ref = current_guide()
assert ref is not None
guide = ref.guide
lang = language(ref)
if not guide.artworks:
    st.info("Add artworks on the **Guide** page first.")
    st.stop()


@st.cache_data(max_entries=8, show_spinner=False)
def display_picture(path: str, mtime: int, width: int) -> tuple[bytes, tuple[int, int]]:
    """The artwork as shown on the canvas (upright, through the one image reader), as JPEG bytes."""
    img, _ = fit_within(read_image(path, settings().image_limits), width)
    return encode_jpeg(img, 88), (img.shape[1], img.shape[0])


art = guide.artwork(st.selectbox("Artwork", [a.id for a in guide.artworks], key="ann-art"))
path = ref.path(art.image)
picture, shown = display_picture(str(path), path.stat().st_mtime_ns, DISPLAY_WIDTH)
scale = shown[0] / art.width

# --- proposals (pre-annotation), in another colour, accepted or rejected one by one ------------------
try:
    pending = proposal_store.read_proposals(ref, art.id)
except USER_ERRORS as exc:
    show_error(exc)
    pending = []
if pending:
    with st.expander(f"{len(pending)} proposed boxes (automatic, shown in blue)", expanded=True):
        img = read_image(path, settings().image_limits)
        for p in pending:
            x, y, w, h = (int(v) for v in p.box)
            cv2.rectangle(img, (x, y), (x + w, y + h), (255, 120, 30), max(2, art.width // 300))
        st.image(np.ascontiguousarray(fit_within(img, DISPLAY_WIDTH)[0][:, :, ::-1]))
        for p in pending:
            c1, c2, c3 = st.columns([4, 1, 1])
            c1.write(
                f"{plain(p.label)} · score {p.score:.2f} · automatic, from {plain(p.source)} · "
                f"box {[round(v) for v in p.box]}"
            )
            if c2.button("Accept", key=f"acc-{p.id}") and saved(
                proposal_store.accept, edit_base(ref), p.id, settings(), lang, message="Accepted"
            ):
                st.rerun()
            if c3.button("Reject", key=f"rej-{p.id}") and saved(
                proposal_store.reject, ref, p.id, message="Rejected"
            ):
                st.rerun()

# --- the canvas -------------------------------------------------------------------------------
from streamlit_drawable_canvas import boxes_to_drawing, st_canvas  # noqa: E402  (needs a running page)

concepts = [c.id for c in guide.concepts]
c1, c2 = st.columns(2)
concept = c1.selectbox(
    "Concept of the next box",
    [""] + concepts,
    format_func=lambda c: guide.text(guide.concept(c).name, lang) if c else "(none)",
    key=f"ann-concept-{art.id}",
)
existing = [d.id for d in art.details]
# keyed per artwork and per saved count: the label never carries over to the next artwork, nor to
# the next box once this one is saved (no duplicate-id save)
label = c2.text_input(
    "Label for the next box",
    guide_edit.next_detail_id(existing, concept or "detail"),
    key=f"ann-label-{art.id}-{concept}-{len(existing)}",
)
saved_boxes = [  # the saved details as the canvas shows them (display pixels)
    {
        "label": d.id,
        "left": d.box[0] * scale,
        "top": d.box[1] * scale,
        "width": d.box[2] * scale,
        "height": d.box[3] * scale,
    }
    for d in art.details
]
initial = boxes_to_drawing(
    saved_boxes,
    stroke_color="#ffc828",
    stroke_width=2,
    fill_color="rgba(255,200,40,0.12)",
)
st.caption("Draw a box round each detail; the toolbar's edit toggle moves, resizes or deletes boxes.")
canvas = st_canvas(
    fill_color="rgba(255,200,40,0.12)",
    stroke_color="#ffc828",
    stroke_width=2,
    background_image=picture,
    drawing_mode="labeled_rect",
    label=label,
    initial_drawing=initial,
    width=shown[0],
    height=shown[1],
    font_size=14,
    key=f"canvas-{art.id}-{ref.revision}",
)
# until the canvas reports (its first render), the boxes are the saved ones
boxes = guide_edit.boxes_from_canvas(
    canvas.boxes if canvas.json_data is not None else saved_boxes, shown, (art.width, art.height)
)
rows = []
for i, (box_label, box) in enumerate(boxes):
    old = next((d for d in art.details if d.id == box_label), None)
    k1, k2, k3, k4 = st.columns([1, 1, 2, 3])
    det_id = k1.text_input("id", box_label or f"detail-{i + 1}", key=f"id-{art.id}-{i}")
    det_concept = (
        old.concept
        if old
        else next((c for c in concepts if box_label == c or box_label.startswith(c + "-")), None)
    )
    k2.caption(f"concept: {det_concept or '-'}  \nbox {[round(v) for v in box]}")
    name = k3.text_input(f"name ({lang})", old.name.get(lang, "") if old else "", key=f"nm-{art.id}-{i}")
    text = k4.text_input(
        f"text ({lang})", old.description.get(lang, "") if old else "", key=f"ds-{art.id}-{i}"
    )
    rows.append((det_id, box, name, text, det_concept or ""))
if st.button("Save details", type="primary") and saved(
    guide_edit.set_details, edit_base(ref), art.id, rows, lang
):
    st.rerun()

# --- per-detail media: audio and video per language, a picture for every language ----------------
if art.details:
    st.subheader("Media of the details")
    st.caption(
        f"Audio and video are per language (now {lang}); the picture is shown on the detail's card "
        "in every language (without one, the lens shows the detail's box cut from the artwork)."
    )
    ss.setdefault("media_round", 0)

    def set_media(detail: str, kind: str, data: bytes | None, filename: str | None, done: str) -> bool:
        """Attach (``data``) or remove (None) a detail's media file; True when saved."""
        assert ref is not None  # the page stopped earlier without a guide
        return saved(
            guide_edit.set_detail_media,
            edit_base(ref),
            art.id,
            detail,
            kind,
            lang,
            data,
            filename or "",
            settings().image_limits,
            message=f"{kind.capitalize()} {done}",
        )

    # per language: the video's captions (WebVTT) and the audio's transcript, shown in the lens
    kinds = ("audio", "video", "captions", "picture")
    titles = {"audio": "Audio", "video": "Video", "captions": "Captions of the video", "picture": "Picture"}
    for det in art.details:
        label = guide.text(det.name, lang) or det.id
        # stays open while the curator attaches, removes or saves in it
        with section(f"{plain(label)} ({det.id})", f"open-media-{art.id}-{det.id}"):
            cols = st.columns(len(kinds))
            for col, kind in zip(cols, kinds):
                rel = det.icon if kind == "picture" else getattr(det, kind).get(lang)
                with col:
                    st.markdown(f"**{titles[kind]}**" + ("" if kind == "picture" else f" ({lang})"))
                    where = ref.path(rel) if rel else None
                    if where is not None and where.is_file():
                        if kind == "audio":
                            st.audio(str(where))
                        elif kind == "video":
                            st.video(str(where))
                        elif kind == "captions":
                            st.caption(where.name)
                        else:
                            st.image(str(where), alt=f"{label}: the detail's picture")
                        if st.button("Remove", key=f"rm-{kind}-{art.id}-{det.id}") and set_media(
                            det.id, kind, None, None, "removed"
                        ):
                            st.rerun()
                    else:
                        st.caption("none yet")
                    upload = st.file_uploader(
                        f"{titles[kind]} file",
                        type=list(guide_edit.MEDIA_TYPES[kind]),
                        key=f"up-{kind}-{art.id}-{det.id}-{ss.media_round}",
                    )
                    if st.button("Attach", key=f"attach-{kind}-{art.id}-{det.id}", disabled=upload is None):
                        assert upload is not None
                        if set_media(det.id, kind, upload.getvalue(), upload.name, "attached"):
                            ss.media_round += 1  # fresh, empty uploaders
                            st.rerun()
                    if kind == "audio":
                        with st.form(f"transcript-{art.id}-{det.id}-{lang}", border=False):
                            text = st.text_area(
                                f"Transcript of the audio ({lang})",
                                det.transcript.get(lang, ""),
                            )
                            if st.form_submit_button("Save the transcript") and saved(
                                guide_edit.set_transcript,
                                edit_base(ref),
                                art.id,
                                det.id,
                                lang,
                                text,
                                message="Transcript saved",
                            ):
                                st.rerun()
