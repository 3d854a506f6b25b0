"""The lens' pieces without a browser: the frame callback, the calm card, events, speech, QR, TLS."""

from __future__ import annotations

import dataclasses
import fractions
import re
import time

import av
import cv2
import numpy as np
import pytest

from smartlens.analytics.events import COLUMNS, EventLog, read_events
from smartlens.imaging import read_image
from smartlens.lens.i18n import STRINGS, pick_language, t
from smartlens.lens.processor import LensProcessor
from smartlens.lens.slots import FairSlots
from smartlens.lens.stabilizer import Stabilizer
from smartlens.lens.webrtc import frame_callback
from smartlens.methods import load_recognizer
from smartlens.recognition.result import DetailHit, Recognition

from conftest import SESSION_SETTINGS as SETTINGS


@pytest.fixture(scope="module")
def demo_rec(demo_guide):
    return load_recognizer(demo_guide, SETTINGS, "retrieval")


def _processor(ref, rec, events=None, slots=1):
    return LensProcessor(rec, ref.guide, FairSlots(slots, idle_s=2.0), "0" * 32, events, "en")


def _path(ref, n: int = 6, artwork: int = 1):
    """A phone moving over the artwork: consecutive frames of one camera path."""
    from smartlens.bench.tracking import camera_path

    art = ref.guide.artworks[artwork]
    return art, [f.image for f in camera_path(art.id, read_image(ref.path(art.image)), n, seed=3)]


def _video_frame(bgr: np.ndarray, pts: int = 42) -> av.VideoFrame:
    """A frame as the WebRTC decoder hands it over (I420)."""
    vf = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    vf.pts, vf.time_base = pts, fractions.Fraction(1, 90000)
    return vf


def test_callback_returns_same_size_frame_with_overlays(demo_guide, demo_rec):
    proc = _processor(demo_guide, demo_rec)
    callback = frame_callback(proc.process)  # what apps/lens.py gives webrtc_streamer
    art, frames = _path(demo_guide, 12)  # a phone's pace: tracking holds from frame to frame
    outs, ins = [], []
    for k, f in enumerate(frames):
        vf = _video_frame(f, pts=42 + k)
        ins.append(vf.to_ndarray(format="bgr24"))  # the frame as the camera sent it
        out = callback(vf)
        assert (
            isinstance(out, av.VideoFrame)
            and (out.width, out.height) == (vf.width, vf.height)
            and out.pts == 42 + k
        )
        outs.append(out.to_ndarray(format="bgr24"))
        assert proc.settle()  # the frame's recognition (if it asked for one) is done before the next
    changed = [np.mean(np.abs(o.astype(int) - f.astype(int)) > 40) for o, f in zip(outs, ins)]
    assert changed[0] == 0  # nothing is known yet on the first frame: it goes back clean
    # then boxes and labels (a frame where tracking was lost goes back clean until the next result)
    assert sum(c > 0.005 for c in changed[1:]) >= len(frames) // 2
    state = proc.latest_state()
    assert state is not None and state.artwork == art.id and state.details
    s = proc.stats()
    assert 1 <= s.processed < len(frames) and s.errors == 0 and s.failures == 0 and s.median_ms > 0
    assert callback.failures.total == 0


@pytest.mark.parametrize(
    "frame",
    [
        np.zeros((2, 2, 3), np.uint8),  # tiny
        np.zeros((3000, 4000, 3), np.uint8),  # huge
        np.full((480, 640), 128, np.uint8),  # grey, 2-D
        np.random.default_rng(0).integers(0, 255, (479, 641, 3), dtype=np.uint8),  # odd size
        np.zeros((480, 640, 4), np.uint8),  # with alpha
        np.zeros((0, 0, 3), np.uint8),  # empty
    ],
    ids=["tiny", "huge", "grey", "odd", "bgra", "empty"],
)
def test_callback_never_raises_on_odd_frames(demo_guide, demo_rec, frame):
    proc = _processor(demo_guide, demo_rec)
    out = proc.process(frame)
    assert out.shape[:2] == frame.shape[:2]


def test_odd_sized_av_frames(demo_guide, demo_rec):
    proc = _processor(demo_guide, demo_rec)
    callback = frame_callback(proc.process)
    for w, h in ((2, 2), (322, 242), (1280, 720), (641, 479)):
        vf = av.VideoFrame.from_ndarray(np.zeros((h, w, 3), np.uint8), format="bgr24")
        out = callback(vf)
        assert (out.width, out.height) == (w, h)
    assert callback.failures.total == 0


class _Failing:
    """The demo's recogniser, failing on every full recognition after the first ``good`` ones."""

    def __init__(self, inner, good: int, exc: Exception):
        self._inner, self._good, self._exc = inner, good, exc
        self.method = inner.method
        self.calls = 0

    def recognize(self, frame):
        self.calls += 1
        if self.calls > self._good:
            raise self._exc
        return self._inner.recognize(frame)

    def at_pose(self, *args):
        return self._inner.at_pose(*args)


class _NamedDetails:
    """Places the artwork (a pose) but names its details without boxes, as a gated classifier does."""

    method = "classification"

    def __init__(self, inner):
        self._inner = inner

    def recognize(self, frame):
        rec = self._inner.recognize(frame)
        if rec.artwork is not None:
            rec.details = [DetailHit("face", 0.9, None)]
        return rec

    def at_pose(self, *args):
        rec = self._inner.at_pose(*args)
        rec.details = []  # nothing to place: the classifier's details have no box
        return rec


def test_details_named_without_a_box_hold_while_the_artwork_is_tracked(demo_guide, demo_rec):
    """Between a classifier's recognitions the tracked frames keep the details it named, so the
    card confirms them (two frames in a row) and the overlay keeps their names."""
    art, frames = _path(demo_guide, 12)
    rec = _NamedDetails(demo_rec)  # the processor holds it weakly between streams
    proc = _processor(demo_guide, rec)
    kept = 0
    for f in frames:
        proc.process(f)
        proc.settle()
        cur = proc.current
        kept += cur is not None and "face" in [d.id for d in cur.details]
    assert proc.stats().tracked >= len(frames) // 2 and kept >= len(frames) // 2
    state = proc.latest_state()
    assert state is not None and state.artwork == art.id and state.details == ("face",)


def test_video_goes_on_when_recognition_raises(demo_guide, demo_rec, caplog):
    """A visitor whose recognitions fail keeps video (every frame comes back) and tracking."""
    art, frames = _path(demo_guide, 24)
    failing = _Failing(demo_rec, good=1, exc=RuntimeError("model exploded"))
    proc = _processor(demo_guide, failing)
    proc.confirm_s = 0.0  # ask for a confirmation on every frame: each one raises
    callback = frame_callback(proc.process)
    drawn = 0
    with caplog.at_level("WARNING", logger="smartlens.lens"):
        for k, f in enumerate(frames):
            vf = _video_frame(f, pts=k)
            out = callback(vf)
            assert isinstance(out, av.VideoFrame) and out.pts == k and (out.width, out.height) == (640, 480)
            drawn += out is not vf  # an outline drawn from the tracked pose
            proc.settle()
    s = proc.stats()
    assert failing.calls > 3 and s.errors == failing.calls - 1  # every failure counted...
    assert proc.failures.counts() == {"recognition: RuntimeError": s.errors}
    logged = [r for r in caplog.records if "model exploded" in r.getMessage()]
    assert len(logged) == 1  # ...and logged once
    assert drawn >= len(frames) // 2 and s.tracked >= len(frames) // 2  # tracking went on


def test_video_goes_on_when_the_frame_path_itself_raises(demo_guide, demo_rec):
    art, frames = _path(demo_guide, 4)
    proc = _processor(demo_guide, demo_rec)
    proc._observe = lambda rec, now: 1 / 0  # a bug anywhere on the frame's own path
    callback = frame_callback(proc.process)
    for k, f in enumerate(frames):
        vf = _video_frame(f, pts=k)
        assert isinstance(callback(vf), av.VideoFrame)
        proc.settle()
    assert proc.failures.counts()["frame: ZeroDivisionError"] >= 1

    def broken(bgr):
        raise MemoryError("no memory for this frame")

    callback = frame_callback(broken)
    vf = _video_frame(frames[0])
    assert callback(vf) is vf and callback(vf) is vf  # sent back as it came
    assert callback.failures.counts() == {"frame callback: MemoryError": 2}


def test_frames_never_wait_for_a_busy_slot(demo_guide, demo_rec):
    slots = FairSlots(1, idle_s=2.0)
    proc = LensProcessor(demo_rec, demo_guide.guide, slots, "s", None, "en")
    _, frames = _path(demo_guide, 3)
    held = slots.hold(5)  # another visitor's frame is being recognised
    assert held is not None
    try:
        for f in frames:
            t0 = time.perf_counter()
            out = proc.process(f)
            assert time.perf_counter() - t0 < 0.2 and out.shape == f.shape
        time.sleep(0.2)
        assert proc.stats().processed == 0 and slots.waiting == 1  # still waiting its turn
    finally:
        held.release()
    assert proc.settle()  # the turn came: the newest frame asked for was recognised
    assert proc.stats().processed == 1


def test_a_closed_processor_holds_no_recogniser_and_follows_a_new_one(demo_guide):
    import gc
    import weakref

    old = load_recognizer(demo_guide, SETTINGS, "retrieval")
    proc = _processor(demo_guide, old)
    _, frames = _path(demo_guide, 3)
    assert proc.recognizer is None  # nothing held before the stream starts...
    proc.process(frames[0])
    assert proc.recognizer is old  # ...held while it runs
    proc.settle()
    proc.close()
    assert proc.recognizer is None
    new = load_recognizer(demo_guide, SETTINGS, "retrieval")
    proc.follow(new)  # what the page does when the lens has loaded a newer guide or model
    gone = weakref.ref(old)
    del old
    gc.collect()
    assert gone() is None  # the page's processor kept the old recogniser alive no longer
    proc.process(frames[1])
    assert proc.recognizer is new and proc.settle()
    assert proc.stats().processed == 2


def test_card_does_not_flicker():
    st = Stabilizer(confirm_frames=3, confirm_seconds=10)
    a = Recognition("a", 0.9, [DetailHit("face", 1.0, (0, 0, 1, 1))])
    b = Recognition("b", 0.9)
    none = Recognition(None)
    seq = [a, a, b, a, a, a, none, none, b, none, b, b, b]
    shown = []
    for i, r in enumerate(seq):
        state, _ = st.update(r, float(i) * 0.05)
        shown.append(state.artwork)
    assert shown[:5] == [None] * 5  # a single 'b' broke the run: 'a' needs 3 in a row
    assert shown[5:12] == ["a"] * 7  # nothing never clears the card; lone b's do not replace it
    assert shown[12] == "b"


def test_details_need_two_frames_and_stay():
    st = Stabilizer(confirm_frames=1)
    hit = Recognition("a", 1, [DetailHit("face", 1, None)])
    s, news = st.update(hit, 0)
    assert s.artwork == "a" and s.details == () and news == ["artwork"]
    s, news = st.update(hit, 0.1)
    assert s.details == ("face",) and news == ["detail:face"]
    s, _ = st.update(Recognition("a", 1), 0.2)
    assert s.details == ("face",)


def test_events_are_anonymous_and_written_in_background(tmp_path, demo_guide, demo_rec):
    events = EventLog(tmp_path / "events.duckdb", flush_every=0.2)
    proc = _processor(demo_guide, demo_rec, events)
    art, frames = _path(demo_guide, 8)
    events.log("session_start", proc.session, guide="demo", language="en", method="retrieval")
    for f in frames:
        proc.process(f)
        proc.settle()
    proc.event("detail_opened", artwork=art.id, detail=art.details[0].id)
    # what a browser would give away, offered to the log: refused, not stored
    agent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    events.log("session_start", proc.session, ip="10.0.0.1")  # not a field of any event
    events.log("detail_opened", proc.session, language=agent)  # not an identifier
    proc.close()  # the stream ended: the time in front of the artwork and of each detail is logged
    time.sleep(0.6)
    events.close()
    rows = read_events(tmp_path / "events.duckdb")
    types = [r["type"] for r in rows]
    assert types[0] == "session_start" and "artwork_recognised" in types and "detail_recognised" in types
    assert "detail_opened" in types and types.count("session_start") == 1
    assert (
        set(rows[0])
        == set(COLUMNS)
        == {"ts", "session", "type", "guide", "language", "method", "artwork", "detail", "score", "dwell_s"}
    )
    seen = next(r for r in rows if r["type"] == "artwork_recognised")
    assert seen["artwork"] == art.id and 0 < seen["score"] <= 1  # how sure the lens was
    left = [r for r in rows if r["type"] == "artwork_left"]
    assert len(left) == 1 and left[0]["artwork"] == art.id and left[0]["dwell_s"] >= 0
    details_left = {r["detail"]: r["dwell_s"] for r in rows if r["type"] == "detail_left"}
    recognised = {r["detail"] for r in rows if r["type"] == "detail_recognised"}
    assert recognised <= set(details_left) and all(d >= 0 for d in details_left.values())
    assert events.refused == 2
    ip = re.compile(r"\b\d{1,3}(\.\d{1,3}){3}\b")
    for r in rows:
        for v in r.values():
            assert not (isinstance(v, str) and (ip.search(v) or "Mozilla" in v)), r


def test_event_log_never_blocks_or_raises(tmp_path):
    bad = tmp_path / "file"
    bad.write_text("x")
    broken = EventLog(bad / "sub" / "events.duckdb", flush_every=0.05)  # its folder cannot exist
    broken.log("session_start", "s")
    broken.flush()
    assert broken.failed == 1 and broken.written == 0
    broken.close()
    events = EventLog(tmp_path / "ok.duckdb", flush_every=0.05, capacity=3)
    events._stop.set()  # writer stopped: the queue fills up
    events._thread.join()
    t0 = time.perf_counter()
    for _ in range(10):
        events.log("session_start", "s")
    assert time.perf_counter() - t0 < 0.05 and events.dropped == 7


def test_ui_strings_and_language():
    assert set(STRINGS["it"]) == set(STRINGS["en"])
    assert t("start", "it") == "Avvia la lente" and t("start", "fr") == "Start the lens"
    assert pick_language(["en", "it"], "it-IT", "en") == "it"
    assert pick_language(["en", "it"], "de-DE", "en") == "en"


def test_speech_falls_back_offline(settings):
    from smartlens.lens.speech import Speech

    speech = Speech(settings)
    t0 = time.perf_counter()
    assert speech.synthesize("La Gioconda", "it") is None  # offline: no MP3, no hang
    assert speech.prepare("La Gioconda", "it") is None  # the browser's voice reads it
    assert time.perf_counter() - t0 < 5
    assert not speech._making  # offline: nothing is being made in the background


def test_speech_prepared_mp3_is_served_from_the_cache(settings):
    from smartlens.lens.speech import Speech

    speech = Speech(settings)
    mp3 = speech.cache_path("La Gioconda", "it")
    mp3.parent.mkdir(parents=True)
    mp3.write_bytes(b"ID3 made earlier")
    assert speech.prepare("La Gioconda", "it") == mp3 and speech.prepare("Altro", "it") is None


def test_speech_probe_is_asked_once_per_interval(settings):
    from smartlens.lens.speech import Speech

    speech = Speech(dataclasses.replace(settings, offline=False), probe_timeout=1.0, ttl=60)
    t0 = time.perf_counter()
    first = speech.reachable()  # no network here: a quick no, never a hang
    assert time.perf_counter() - t0 < 5
    t1 = time.perf_counter()
    assert speech.reachable() == first and time.perf_counter() - t1 < 0.01  # remembered, not asked again


def test_qr_and_certificate(tmp_path):
    from smartlens.qr import write_qr
    from smartlens.tls import make_certificate

    png = write_qr("https://192.168.1.20:8501/", tmp_path / "qr.png")
    img = cv2.imread(str(png))
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(img)
    assert text == "https://192.168.1.20:8501/"
    assert "<svg" in write_qr("https://x/", tmp_path / "qr.svg").read_text()
    with pytest.raises(ValueError, match=".png or .svg"):
        write_qr("https://x/", tmp_path / "qr.gif")
    cert, key = make_certificate(tmp_path / "tls", ["localhost", "192.168.1.20"])
    from cryptography import x509

    c = x509.load_pem_x509_certificate(cert.read_bytes())
    sans = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert key.stat().st_mode & 0o077 == 0


def test_ice_configuration(settings):
    from smartlens.lens.webrtc import rtc_configuration

    assert rtc_configuration(settings) == {"iceServers": []}  # LAN: nothing from the internet
    settings = dataclasses.replace(
        settings, ice_servers="stun:stun.example.org:3478, turn:u:p@turn.example.org:3478"
    )
    cfg = rtc_configuration(settings)["iceServers"]
    assert cfg[0] == {"urls": ["stun:stun.example.org:3478"]}
    assert cfg[1] == {"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}


def test_the_lens_has_one_inference_slot_per_core(demo_guide, base_settings):
    from smartlens.lens.runtime import cores, load_runtime, shared_slots

    rt = load_runtime(str(demo_guide.root), base_settings)
    again = load_runtime(str(demo_guide.root), base_settings)
    assert rt.slots is again.slots is shared_slots()  # a reloaded guide or model does not add slots
    assert rt.slots.slots == cores() >= 1
