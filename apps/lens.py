"""SmartLens — the visitors' lens.

Run with ``python -m smartlens lens --guide demo`` (or ``./run.sh``). The phone's camera
streams to this server over WebRTC; each frame is recognised server-side and comes back with
boxes drawn on it; the card below tells what the museum wrote about what is framed.
"""

from __future__ import annotations

import argparse
import os
import sys

import cv2
import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from smartlens.allocator import keep_freed_memory
from smartlens.analytics.events import EventLog, new_session_id, open_event_log
from smartlens.assets import LENS_ICON
from smartlens.blas_threads import single_threaded_blas
from smartlens.config import Settings, load_settings
from smartlens.errors import ImageError
from smartlens.escaping import html_text, plain
from smartlens.guide import Artwork, Detail, list_guides
from smartlens.heap import freeze_loaded
from smartlens.imaging import decode_image
from smartlens.lens.i18n import LANGUAGE_NAMES, pick_language, t
from smartlens.lens.runtime import LensRuntime, guide_version, load_runtime
from smartlens.lens.speech import Speech
from smartlens.lens.stabilizer import LensState
from smartlens.lens.webrtc import MEDIA_CONSTRAINTS, frame_callback, install_video_path, rtc_configuration
from smartlens.lens.widgets import Playback, Track, announce, media_player, media_url

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter hides real messages
keep_freed_memory()  # per-frame buffers reuse freed memory instead of faulting in fresh pages
single_threaded_blas()  # no idle BLAS thread spinning on a core between frames


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--guide", default="demo")  # a visitor's ?guide=NAME chooses another one
    p.add_argument("--method", default=None)  # None: what the studio published, picked up per visitor
    p.add_argument("--mode", default=None)
    return p.parse_known_args(sys.argv[1:])[0]


st.set_page_config(
    page_title="SmartLens",
    page_icon=str(LENS_ICON),  # served by the lens itself, not fetched from a font host
    layout="centered",
    initial_sidebar_state="collapsed",
)
st.markdown(
    """<style>
  .block-container {padding-top: 1.2rem; padding-bottom: 2rem; max-width: 760px;}
  .sl-title {font-size: 1.5rem; font-weight: 700; margin: 0.2rem 0 0 0;}
  .sl-sub {color: #666; margin-bottom: 0.4rem;}
  .sl-stats {color: #888; font-size: 0.8rem;}
</style>""",
    unsafe_allow_html=True,
)

opts = options()


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()  # the environment is read once per server


@st.cache_resource(show_spinner=False)
def event_log() -> EventLog:
    return open_event_log(settings())  # this process' one writer of its own event segments


@st.cache_resource(show_spinner=False)
def speech() -> Speech:
    return Speech(settings())  # one per server: its MP3 cache and whether gTTS answers


def runtime(guide: str, method: str | None, mode: str | None, version: int) -> LensRuntime:
    """The shared runtime; a saved guide (``version``) or a newly published model is loaded for the
    next visitor, while visitors already here keep the processor (and recogniser) they have."""
    from smartlens.publish import published_revision

    published = "" if method else published_revision(guide, settings())
    return _runtime(guide, method, mode, version, published)


# a few guides served at once (?guide=NAME), each kept while a new version loads for new visitors
@st.cache_resource(show_spinner=False, max_entries=4)
def _runtime(guide: str, method: str | None, mode: str | None, version: int, published: str) -> LensRuntime:
    rt = load_runtime(guide, settings(), method, mode, event_log())
    freeze_loaded()  # each script run's garbage collection no longer scans the model
    return rt


# --- loading: the camera stays hidden until the guide and the recogniser are ready --------------
ss = st.session_state
if "session" not in ss:
    ss.session = new_session_id()
lang_hint = ss.get("language") or pick_language(["en", "it"], st.context.locale, "en")
if "guide_name" not in ss:
    # the QR code next to the artworks names its guide (?guide=NAME); any other guide on this
    # server may be asked for, by name only
    asked = st.query_params.get("guide")
    ss.guide_name = opts.guide
    ss.guide_missing = None
    if asked and asked != opts.guide:
        if asked in list_guides(settings()):
            ss.guide_name = asked
        else:
            ss.guide_missing = asked
if ss.guide_missing:
    st.warning(t("no_such_guide", lang_hint, name=ss.guide_missing[:80]))
try:
    with st.spinner(t("loading", lang_hint)):
        rt = runtime(ss.guide_name, opts.method, opts.mode, guide_version(ss.guide_name, settings()))
except Exception as exc:  # a broken guide or model: say so on the page, not with a stack trace
    st.error(f"SmartLens could not start: {plain(str(exc))}")
    st.stop()
guide = rt.ref.guide

if "language" not in ss:
    asked_lang = st.query_params.get("lang")
    ss.language = (
        asked_lang
        if asked_lang in guide.languages
        else pick_language(guide.languages, st.context.locale, guide.default_language)
    )
if "processor" not in ss:
    ss.processor = rt.new_processor(ss.session, ss.language)
    ss.card = LensState()
    event_log().log("session_start", ss.session, guide=guide.name, language=ss.language, method=rt.method)
proc = ss.processor
proc.follow(rt.recognizer, guide)  # the visitor's next stream uses what the lens serves now

# --- header: title and language ---------------------------------------------------------------
head, lang_col = st.columns([3, 1], vertical_alignment="bottom")
with head:
    # the guide's texts are the museum's, not markup: escaped, never rendered as HTML
    title = html_text(guide.text(guide.title, ss.language) or t("title", ss.language))
    st.markdown(
        f"<div class='sl-title'>{title}</div><div class='sl-sub'>{t('intro', ss.language)}</div>",
        unsafe_allow_html=True,
    )
with lang_col:
    chosen = st.selectbox(
        t("language", ss.language),
        guide.languages,
        index=guide.languages.index(ss.language),
        format_func=lambda code: LANGUAGE_NAMES.get(code, code),
        key="language_select",
    )
    if chosen != ss.language:
        ss.language = chosen
        proc.language = chosen
        # the dashboard counts every language a visit used, not only the one it opened in
        event_log().log("language_changed", ss.session, guide=guide.name, language=chosen, method=rt.method)
        st.query_params["lang"] = chosen  # a reload, or the address shared, keeps it
        st.rerun()
lang = ss.language


# --- the live lens: inference runs in the frame callback, off this thread ---------------------------
install_video_path()  # H.264 when the phone offers it, encoded cheaply (once per process)
if "frame_callback" not in ss:
    ss.frame_callback = frame_callback(proc.process)  # one per visitor: the worker keeps it across reruns
webrtc_streamer(
    key="lens",
    mode=WebRtcMode.SENDRECV,
    rtc_configuration=rtc_configuration(settings()),
    media_stream_constraints=MEDIA_CONSTRAINTS,
    video_frame_callback=ss.frame_callback,
    on_video_ended=proc.close,  # the stream stopped: the time in front of the last artwork is logged
    async_processing=True,
    video_html_attrs={
        "autoPlay": True,
        "controls": False,
        "muted": True,
        "playsInline": True,
        "style": {"width": "100%", "borderRadius": "12px"},
    },
    translations={
        "start": t("start", lang),
        "stop": t("stop", lang),
        "select_device": t("select_device", lang),
    },
)


# --- the card ---------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=512)
def card_picture(guide_name: str, version: int, artwork: str, detail: str | None = None) -> bytes:
    """The card's picture as JPEG bytes, encoded once: the card redraws twice a second, and
    ``st.image`` re-encodes an array at every redraw."""
    rgb = rt.artwork_image(artwork) if detail is None else rt.detail_image(artwork, detail)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    return buf.tobytes()


def playback(item: Artwork | Detail, name: str, text: str) -> list[Playback]:
    """What a card offers to play for an artwork or a detail: its audio in the visitor's language
    (with the transcript), else its text read aloud; and its video (with captions) when there is one."""
    audio = rt.media(guide.text(item.audio, lang)) if item.audio else None
    spoken = None if audio else speech().prepare(text, lang)  # gTTS when it answered; else the browser
    sound = audio or spoken
    out = [
        Playback(
            "audio" if sound else "speech",
            t("listen" if audio else "read_aloud", lang),
            t("audio_of", lang, name=name),
            t("cannot_play" if sound else "cannot_speak", lang),
            src=media_url(sound) if sound else "",
            text="" if audio else text,
            lang=lang,
            transcript=guide.text(item.transcript, lang) if audio else "",  # Text: lang -> text
            transcript_label=t("transcript", lang),
        )
    ]
    video = rt.media(guide.text(item.video, lang)) if item.video else None
    if video is not None:
        # captions: Text, language -> .vtt of that language's video
        vtt = rt.media(item.captions.get(lang))
        tracks = (Track(media_url(vtt), lang, LANGUAGE_NAMES.get(lang, lang)),) if vtt else ()
        out.append(
            Playback(
                "video",
                t("watch", lang),
                t("video_of", lang, name=name),
                t("cannot_play", lang),
                src=media_url(video),
                tracks=tracks,
            )
        )
    return out


def players(item: Artwork | Detail, name: str, text: str, key: str, artwork: str, detail: str | None = None):
    """The card's players; an event is logged when the browser says playback started."""
    for p in playback(item, name, text):
        played = media_player(p, key=f"{p.kind}-{key}-{lang}")
        if played:
            proc.event(played, artwork=artwork, detail=detail)


def show_card(state: LensState) -> None:
    if state.artwork is None:
        announce("")
        st.info(t("no_artwork", lang))
        return
    art = guide.artwork(state.artwork)
    title = guide.text(art.title, lang)
    # said once by screen readers when the artwork changes (the region's text changes only then)
    announce(t("recognised", lang, title=title))
    img_col, text_col = st.columns([1, 2])
    with img_col:
        st.image(
            card_picture(guide.name, guide_version(guide.name, settings()), art.id), width=200, alt=title
        )
    with text_col:
        author = guide.text(art.author, lang)
        year = guide.text(art.year, lang)
        # guide texts are plain text: escaped, so no markup, link or remote image reaches a visitor
        st.markdown(f"### {plain(title)}")
        # the page's own text colour: Streamlit's faded caption grey is below 4.5:1 on white
        st.markdown(
            " · ".join(x for x in (f"{t('by', lang)} {plain(author)}" if author else "", plain(year)) if x)
        )
        st.markdown(plain(guide.text(art.description, lang)))
    players(art, title, f"{title}. {guide.text(art.description, lang)}", f"art-{art.id}", art.id)
    if state.details:
        st.markdown(f"**{t('details', lang)}** — {t('tap_detail', lang)}")
        # every detail of the artwork, in the guide's order: a chip list that grew as details came
        # into view would change the widget's options, and Streamlit would close the open detail
        order = [d.id for d in art.details]
        picked = st.pills(
            t("details", lang),
            order,
            key=f"chips-{art.id}",
            label_visibility="collapsed",
            format_func=lambda d: plain(guide.text(art.detail(d).name, lang) or d),
        )
        if picked and ss.get("opened") != (art.id, picked):
            ss.opened = (art.id, picked)
            proc.event("detail_opened", artwork=art.id, detail=picked)
        if picked:
            det = art.detail(picked)
            name = guide.text(det.name, lang) or det.id
            c1, c2 = st.columns([1, 2])
            with c1:
                st.image(
                    card_picture(guide.name, guide_version(guide.name, settings()), art.id, det.id),
                    width=160,
                    alt=name,
                )
            with c2:
                st.markdown(f"#### {plain(name)}")
                st.markdown(plain(guide.text(det.description, lang)))
            players(
                det,
                name,
                f"{name}. {guide.text(det.description, lang)}",
                f"det-{art.id}-{det.id}",
                art.id,
                det.id,
            )


# the card is drawn by the page's run, not by a timer: it stays as it is (a playing audio, an open
# detail, the screen reader's place) until the recogniser has news, which reruns the page
ss.card = proc.latest_state(ss.card)
show_card(ss.card)


@st.fragment(run_every=0.5)
def news() -> None:
    """Twice a second: rerun the page when the card has something new to show."""
    state = proc.latest_state(ss.card)
    if state is not ss.card:
        ss.card = state
        st.rerun()
    if st.query_params.get("debug"):
        s = proc.stats()
        first = "-" if s.first_result is None else f"{s.first_result:.2f}"
        st.markdown(
            f"<div class='sl-stats' id='sl-stats' data-fps='{s.fps:.2f}' data-median='{s.median_ms:.1f}' "
            f"data-p95='{s.p95_ms:.1f}' data-first='{first}' data-processed='{s.processed}' "
            f"data-frames='{s.frames}' data-skipped='{s.skipped}'>"
            f"{t('stats', lang, fps=s.fps, ms=s.median_ms)}</div>",
            unsafe_allow_html=True,
        )


news()

# --- fallback: a photo instead of live video --------------------------------------------------
with st.expander(t("snapshot", lang)):
    st.caption(t("https_needed", lang))
    shot = st.camera_input(t("snapshot_label", lang), key="snapshot")
    if shot is not None and ss.get("shot_id") != shot.file_id:
        ss.shot_id = shot.file_id
        try:
            result = rt.recognizer.recognize(decode_image(shot.getvalue(), "photo", settings().image_limits))
        except ImageError as exc:
            st.error(f"{t('bad_photo', lang)}: {plain(str(exc))}")
        else:
            if result.artwork is None:
                st.warning(t("snapshot_none", lang))
            else:
                proc.snapshot(result)
                st.rerun()
