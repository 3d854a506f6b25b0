"""``python -m smartlens bench load``: what one lens server gives many visitors, without browsers.

Three parts (``--parts``), all over a camera-like clip with motion (real paintings hung on
synthetic walls, a slow pan/zoom with hand shake, a cut to another painting every few seconds):

- ``stages``: one visitor's server CPU per frame, stage by stage (decode, conversion, recognition
  and tracking with drawing, drawing alone, encode), for the video path before and after its
  changes (VP8 + PyAV conversions, against H.264 ``ultrafast`` + OpenCV conversions).
- ``inprocess``: N visitors, each a thread feeding its own :class:`LensProcessor` (from one shared
  :class:`LensRuntime`, as the lens does) at a fixed camera rate: frames back per second, full
  recognitions per second, frame latency, time from framing a new artwork to its title, CPU.
- ``webrtc``: N simulated phones (aiortc peers in another process) stream the clip to
  streamlit-webrtc's own ``WebRtcWorker`` with the lens' frame callback, bypassing only the
  Streamlit page; the server's CPU per visitor split by stage, and the visitors per core it implies.

Every timing comes with a yardstick (a plain SIFT extraction of the same frames, in the same run).
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..config import Settings
from ..guide import GuideRef
from ..imaging import fit_within, read_image
from ..synth import pictures
from ..synth.camera import CameraParams, view_homography
from .timing import table

FRAME = (640, 480)


# --- the clip -------------------------------------------------------------------------------------
@dataclass
class Clip:
    """Camera frames (BGR, 640x480) and which artwork each one frames."""

    frames: np.ndarray  # (n, 480, 640, 3) uint8
    artworks: list[str]
    fps: float

    def cuts(self) -> list[int]:
        """Indices of the frames where a new artwork comes into view."""
        return [i for i, a in enumerate(self.artworks) if i == 0 or a != self.artworks[i - 1]]


def camera_clip(ref: GuideRef, fps: float = 10.0, seconds_each: float = 3.0, seed: int = 7) -> Clip:
    """Each artwork of ``ref`` in turn: a slow pan/zoom between two random poses, with shake."""
    rng = np.random.default_rng(seed)
    params = CameraParams(max_tilt=25.0)
    per = max(2, int(round(seconds_each * fps)))
    arts = ref.guide.artworks
    frames = np.empty((per * len(arts), FRAME[1], FRAME[0], 3), np.uint8)
    names: list[str] = []
    for a, art in enumerate(arts):
        image, _ = fit_within(read_image(ref.path(art.image)), 900)
        h, w = image.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        ends = [
            cv2.perspectiveTransform(
                src[None], view_homography((w, h), (0, 0, w, h), FRAME, rng, params, (0.55, 0.9))
            )[0]
            for _ in range(2)
        ]
        wall = pictures.wall(seed + a, *FRAME)
        # sensor noise, one pattern per artwork shifted each frame (cheap, and never the same twice)
        noise = rng.integers(-4, 5, (FRAME[1], FRAME[0] + per, 3), dtype=np.int16)
        for j in range(per):
            t = j / (per - 1)
            t = t * t * (3 - 2 * t)  # ease in and out, as a hand does
            quad = (ends[0] * (1 - t) + ends[1] * t + rng.normal(0, 1.5, (4, 2))).astype(np.float32)
            H = cv2.getPerspectiveTransform(src, quad)
            frame = cv2.warpPerspective(
                image, H, FRAME, dst=wall.copy(), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
            )
            frame = np.clip(frame.astype(np.int16) + noise[:, j : j + FRAME[0]], 0, 255)
            frames[a * per + j] = frame.astype(np.uint8)
            names.append(art.id)
    return Clip(frames, names, fps)


def _runtime(ref: GuideRef, settings: Settings):
    from ..lens.runtime import load_runtime

    return load_runtime(str(ref.root), settings)


def _yardstick(clip: Clip, n: int = 20) -> dict[str, float]:
    from ..synth.camera import View
    from .recognition import yardstick

    step = max(1, len(clip.frames) // n)
    return yardstick([View(clip.frames[i]) for i in range(0, len(clip.frames), step)])


class _Counting:
    """A recogniser that counts full recognitions (the lens' own, delegated to) and, with a
    ``clock``, adds the CPU time of each (on the thread it runs on) to its "recognise" stage."""

    def __init__(self, inner, clock: _StageClock | None = None):
        self._inner, self.calls, self._clock = inner, 0, clock

    def recognize(self, frame):
        self.calls += 1
        t0 = time.thread_time()
        try:
            return self._inner.recognize(frame)
        finally:
            if self._clock is not None:
                self._clock.add("recognise", time.thread_time() - t0)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _count_recognitions(proc, clock: _StageClock | None = None) -> _Counting | None:
    if not hasattr(proc, "recognizer"):
        return None
    counting = _Counting(proc.recognizer, clock)
    proc.recognizer = counting
    return counting


# --- part 1: one visitor's stages -------------------------------------------------------------
def _encoded(frames: list, codec_name: str) -> list[bytes]:
    import av

    cc: Any = av.CodecContext.create(codec_name, "w")
    cc.width, cc.height, cc.pix_fmt = FRAME[0], FRAME[1], "yuv420p"
    cc.time_base = fractions.Fraction(1, 90000)
    cc.bit_rate = 1_000_000
    if codec_name == "libx264":
        cc.options = {"tune": "zerolatency", "preset": "ultrafast"}
    return [bytes(p) for f in frames for p in cc.encode(f)]


def _cpu_ms(fn: Callable[[Any], Any], items: list) -> float:
    """Median CPU milliseconds of ``fn`` over ``items`` (the process' CPU: codecs and conversions
    use helper threads)."""
    ms = []
    for x in items:
        t0 = time.process_time()
        fn(x)
        ms.append((time.process_time() - t0) * 1000)
    return round(statistics.median(ms), 2)


def stages(ref: GuideRef, settings: Settings, clip: Clip) -> list[dict]:
    """CPU per frame of each stage of one visitor, before and after the video path changes."""
    import av
    from aiortc.codecs import get_encoder
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    from ..drawing import draw
    from ..lens.webrtc import _fast_h264_encoder

    rt = _runtime(ref, settings)
    frames = list(clip.frames[: int(6 * clip.fps)])  # two artworks and the cut between them
    yuv = []
    for k, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        vf.pts, vf.time_base = k * 9000, fractions.Fraction(1, 90000)
        yuv.append(vf)
    vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97)
    h264 = RTCRtpCodecParameters(
        mimeType="video/H264",
        clockRate=90000,
        payloadType=99,
        parameters={"packetization-mode": "1", "level-asymmetry-allowed": "1", "profile-level-id": "42e01f"},
    )

    def decode_ms(codec_name: str, decoder: str) -> float:
        packets = _encoded(yuv, codec_name)
        dec: Any = av.CodecContext.create(decoder, "r")
        return _cpu_ms(lambda p: dec.decode(av.Packet(p)), packets)

    def encode_ms(encoder) -> float:
        return _cpu_ms(lambda f: encoder.encode(f), yuv)

    bgr_frames = [
        av.VideoFrame.from_ndarray(f, format="bgr24") for f in frames
    ]  # what the old path handed the encoder
    proc = rt.new_processor("bench-stages", rt.ref.guide.default_language)
    processed = [proc.process(f) for f in frames[:3]]  # warm up
    t_proc = []
    for f in frames:
        t0 = time.process_time()
        processed.append(proc.process(f))
        t_proc.append((time.process_time() - t0) * 1000)
    recs = [rt.recognizer.recognize(f) for f in frames[:: max(1, len(frames) // 20)]]
    names = {d.id: d.id for a in ref.guide.artworks for d in a.details}
    hit = [r for r in recs if r.artwork is not None] or recs
    draw_ms = _cpu_ms(lambda r: draw(frames[0], r, names), hit * 3)
    recognize_ms = round(statistics.median(r.ms for r in recs), 2)
    old_encoder = get_encoder(vp8)
    new_encoder = _fast_h264_encoder()()
    default_h264 = get_encoder(h264)
    rows: list[dict[str, Any]] = [
        {
            "stage": "decode (camera -> frame)",
            "before_ms": decode_ms("libvpx", "vp8"),
            "after_ms": decode_ms("libx264", "h264"),
            "note": "VP8 -> H.264",
        },
        {
            "stage": "convert in (I420 -> BGR)",
            "before_ms": _cpu_ms(lambda f: f.to_ndarray(format="bgr24"), yuv),
            "after_ms": _cpu_ms(
                lambda f: cv2.cvtColor(f.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420), yuv
            ),
            "note": "PyAV -> OpenCV",
        },
        {
            "stage": "process (recognise/track + draw)",
            "before_ms": round(statistics.median(t_proc), 2),
            "after_ms": round(statistics.median(t_proc), 2),
            "note": f"p95 {np.percentile(t_proc, 95):.1f}; one full recognition {recognize_ms} ms wall",
        },
        {
            "stage": "  of which drawing",
            "before_ms": draw_ms,
            "after_ms": draw_ms,
            "note": "smartlens.drawing.draw, a recognised frame",
        },
        {
            "stage": "convert out (BGR -> I420)",
            "before_ms": _cpu_ms(lambda f: av.VideoFrame.from_ndarray(f, format="bgr24"), frames),
            "after_ms": _cpu_ms(
                lambda f: av.VideoFrame.from_ndarray(
                    cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420), format="yuv420p"
                ),
                frames,
            ),
            "note": "PyAV -> OpenCV",
        },
        {
            "stage": "encode (frame -> phone)",
            "before_ms": _cpu_ms(lambda f: old_encoder.encode(f), bgr_frames),
            "after_ms": encode_ms(new_encoder),
            "note": f"VP8 (aiortc) -> H.264 ultrafast; aiortc's own H.264: {encode_ms(default_h264)} ms",
        },
    ]
    total = {
        col: round(sum(r[col] for r in rows if not r["stage"].startswith("  ")), 1)
        for col in ("before_ms", "after_ms")
    }
    rows.append({"stage": "total per frame", **total, "note": "CPU ms"})
    for fps in (10, 15):
        rows.append(
            {
                "stage": f"visitors per core at {fps} fps",
                "before_ms": round(1000 / (total["before_ms"] * fps), 1),
                "after_ms": round(1000 / (total["after_ms"] * fps), 1),
                "note": "1000 / (total x fps)",
            }
        )
    return rows


# --- part 2: visitors in this process -----------------------------------------------------------
@dataclass
class VisitorResult:
    frames_back: int = 0
    overlays: int = 0
    recognitions: int = 0
    dropped: int = 0
    latency_ms: list[float] = field(default_factory=list)
    to_title_s: list[float] = field(default_factory=list)
    missed_titles: int = 0


def _visitor(proc, clip: Clip, offset: int, seconds: float, start: threading.Event, out: VisitorResult):
    counting = _count_recognitions(proc)
    n, fps = len(clip.frames), clip.fps
    cut_set = set(clip.cuts())
    start.wait()
    t0 = time.monotonic()
    last = -1
    pending: tuple[str, float] | None = None  # (artwork, when it came into view)
    shown: str | None = None  # the artwork the visitor's card shows
    while True:
        now = time.monotonic()
        if now - t0 >= seconds:
            break
        k = int((now - t0) * fps)
        if k == last:  # wait for the camera's next frame
            time.sleep(max(0.0, t0 + (k + 1) / fps - now))
            continue
        out.dropped += max(0, k - last - 1)
        idx = (offset + k) % n
        if any((offset + j) % n in cut_set for j in range(last + 1, k + 1)):
            if pending is not None:
                out.missed_titles += 1
            pending = (clip.artworks[idx], t0 + k / fps)
        last = k
        frame = clip.frames[idx]
        t1 = time.perf_counter()
        drawn = proc.process(frame)
        out.latency_ms.append((time.perf_counter() - t1) * 1000)
        out.frames_back += 1
        out.overlays += drawn is not frame and not np.shares_memory(drawn, frame)
        state = proc.latest_state(None)
        if state is not None:
            shown = state.artwork
        if pending is not None and shown == pending[0]:
            out.to_title_s.append(time.monotonic() - pending[1])
            pending = None
    proc.close()
    proc.settle(5.0)  # no recognition left running when the benchmark ends
    if counting is not None:
        out.recognitions = counting.calls
    else:
        out.recognitions = proc.stats().processed


def inprocess(
    ref: GuideRef, settings: Settings, clip: Clip, visitors: int, seconds: float, rt=None
) -> dict[str, Any]:
    """``visitors`` threads, each a visitor with its own processor, at the clip's frame rate."""
    rt = rt or _runtime(ref, settings)
    results = [VisitorResult() for _ in range(visitors)]
    start = threading.Event()
    n = len(clip.frames)
    threads = [
        threading.Thread(
            target=_visitor,
            args=(rt.new_processor(f"load-{i}", rt.ref.guide.default_language), clip, i * n // visitors),
            kwargs={"seconds": seconds, "start": start, "out": results[i]},
            daemon=True,
        )
        for i in range(visitors)
    ]
    for th in threads:
        th.start()
    c0, w0 = time.process_time(), time.monotonic()
    start.set()
    for th in threads:
        th.join(seconds + 30)
    wall = time.monotonic() - w0
    cores = (time.process_time() - c0) / wall
    lat = np.array([ms for r in results for ms in r.latency_ms], float)
    titles = [t for r in results for t in r.to_title_s]
    fps_each = [r.frames_back / wall for r in results]
    return {
        "visitors": visitors,
        "camera_fps": clip.fps,
        "fps_back_min": round(min(fps_each), 2),
        "fps_back_median": round(statistics.median(fps_each), 2),
        "overlay_share": round(
            sum(r.overlays for r in results) / max(1, sum(r.frames_back for r in results)), 2
        ),
        "recognitions_per_s": round(statistics.median(r.recognitions / wall for r in results), 2),
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "latency_p95_ms": round(float(np.percentile(lat, 95)), 1) if lat.size else None,
        "to_title_median_s": round(statistics.median(titles), 2) if titles else None,
        "to_title_max_s": round(max(titles), 2) if titles else None,
        "titles": f"{len(titles)}/{len(titles) + sum(r.missed_titles for r in results)}",
        "cores_busy": round(cores, 2),
        "cores_per_visitor": round(cores / visitors, 3),
    }


# --- part 3: WebRTC peers --------------------------------------------------------------------------
class _Pipe:
    """JSON lines over a pair of byte streams (the phones' process talks to the server so)."""

    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile

    def send(self, obj: Any) -> None:
        self.wfile.write((json.dumps(obj) + "\n").encode())
        self.wfile.flush()

    def recv(self) -> Any:
        line = self.rfile.readline()
        if not line:
            raise EOFError("the other side closed the pipe")
        return json.loads(line)


def peers_main() -> None:
    """Entry of the phones' process: ``python -c 'from smartlens.bench.load import peers_main; ...'``."""
    import os
    import sys

    from ..lens.webrtc import install_video_path

    os.nice(10)
    install_video_path()  # the phones' own H.264 encoder at a phone-like cost
    pipe = _Pipe(sys.stdin.buffer, sys.stdout.buffer)
    clip_path, fps, count, seconds = pipe.recv()
    asyncio.run(_peers(np.load(clip_path, mmap_mode="r"), fps, count, seconds, pipe))


async def _peers(frames: np.ndarray, fps: float, count: int, seconds: float, conn) -> None:
    import av
    from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

    class ClipTrack(MediaStreamTrack):
        """A phone camera playing the clip at ``fps`` (from a different place for each phone)."""

        kind = "video"

        def __init__(self, offset: int):
            super().__init__()
            self.k, self.offset = 0, offset
            self.t0: float | None = None

        async def recv(self):
            if self.t0 is None:
                self.t0 = time.monotonic()
            wait = float(self.t0) + self.k / fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            img = frames[(self.offset + self.k) % len(frames)]
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
            frame.pts, frame.time_base = int(self.k * 90000 / fps), fractions.Fraction(1, 90000)
            self.k += 1
            return frame

    received = [0] * count
    pcs = []

    async def consume(i: int, track) -> None:
        while True:
            try:
                await track.recv()
            except Exception:
                return
            received[i] += 1

    loop = asyncio.get_running_loop()
    for i in range(count):
        pc = RTCPeerConnection()
        pcs.append(pc)
        pc.addTrack(ClipTrack(i * len(frames) // max(1, count)))
        pc.on("track", lambda track, i=i: asyncio.ensure_future(consume(i, track)))
        await pc.setLocalDescription(await pc.createOffer())
        conn.send(["offer", pc.localDescription.sdp])
        sdp = await loop.run_in_executor(None, conn.recv)
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    conn.send(["connected", None])
    await loop.run_in_executor(None, conn.recv)  # the server says: measure from now
    a, t0 = list(received), time.monotonic()
    await asyncio.sleep(seconds)
    b, t1 = list(received), time.monotonic()
    conn.send(["received", [(y - x) / (t1 - t0) for x, y in zip(a, b)]])
    for pc in pcs:
        await pc.close()


class _StageClock:
    """CPU seconds spent in each stage, from wrappers around aiortc's coders and the callback."""

    def __init__(self):
        # process: the frame callback's own work (tracking, drawing); recognise: full recognitions,
        # which run on each visitor's background worker
        self.cpu: dict[str, float] = {
            "decode": 0.0,
            "convert": 0.0,
            "process": 0.0,
            "recognise": 0.0,
            "encode": 0.0,
        }
        self.frames: dict[str, int] = {"decode": 0, "process": 0, "encode": 0}
        self._lock = threading.Lock()

    def add(self, stage: str, seconds: float, frames: int = 0) -> None:
        with self._lock:
            self.cpu[stage] += seconds
            if stage in self.frames:
                self.frames[stage] += frames

    def reset(self) -> None:
        with self._lock:
            self.cpu = dict.fromkeys(self.cpu, 0.0)
            self.frames = dict.fromkeys(self.frames, 0)

    def timed_coder(self, coder, method: str, stage: str):
        original = getattr(coder, method)

        def timed(*args, **kwargs):
            t0 = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(stage, time.thread_time() - t0, 1)

        setattr(coder, method, timed)
        return coder


def _instrument(clock: _StageClock) -> Callable[[], None]:
    """Time aiortc's decoders and encoders; returns the undo."""
    import aiortc.rtcrtpreceiver as receiver
    import aiortc.rtcrtpsender as sender

    get_decoder, get_encoder = receiver.get_decoder, sender.get_encoder
    receiver.get_decoder = lambda codec: clock.timed_coder(get_decoder(codec), "decode", "decode")
    sender.get_encoder = lambda codec: clock.timed_coder(get_encoder(codec), "encode", "encode")

    def undo() -> None:
        receiver.get_decoder, sender.get_encoder = get_decoder, get_encoder

    return undo


def webrtc(
    ref: GuideRef, settings: Settings, clip: Clip, peers: int, seconds: float, path: str, rt=None
) -> dict[str, Any]:
    """``peers`` simulated phones through streamlit-webrtc's worker; ``path``: "before" (VP8, the
    processor's PyAV conversions) or "after" (the lens' video path)."""
    from aiortc.contrib.media import MediaRelay
    from streamlit_webrtc.webrtc import WebRtcMode, WebRtcWorker

    from ..lens.webrtc import frame_callback, install_video_path, negotiated_codec

    if path == "after":
        install_video_path()
    rt = rt or _runtime(ref, settings)
    clock = _StageClock()
    undo = _instrument(clock)
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, daemon=True)
    loop_thread.start()
    relay = asyncio.run_coroutine_threadsafe(_make_relay(MediaRelay), loop).result()
    tmp = Path(tempfile.mkdtemp(prefix="smartlens-load-"))
    clip_path = tmp / "clip.npy"
    np.save(clip_path, clip.frames)
    phones = subprocess.Popen(
        [sys.executable, "-c", "from smartlens.bench.load import peers_main; peers_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    here = _Pipe(phones.stdout, phones.stdin)
    workers: list = []
    try:
        here.send([str(clip_path), clip.fps, peers, seconds])
        for i in range(peers):
            proc = rt.new_processor(f"webrtc-{i}", rt.ref.guide.default_language)
            _count_recognitions(proc, clock)
            original_process = proc.process

            def timed_process(image, _p=original_process):
                t0 = time.thread_time()
                try:
                    return _p(image)
                finally:
                    clock.add("process", time.thread_time() - t0, 1)

            proc.process = timed_process
            inner = frame_callback(proc.process) if path == "after" else proc.recv

            def callback(frame, _inner=inner):
                t0 = time.thread_time()
                try:
                    return _inner(frame)
                finally:
                    clock.add("convert", time.thread_time() - t0)

            worker: Any = WebRtcWorker(
                mode=WebRtcMode.SENDRECV,
                rtc_configuration=None,
                source_video_track=None,
                source_audio_track=None,
                sink_video_track=None,
                sink_audio_track=None,
                player_factory=None,
                in_recorder_factory=None,
                out_recorder_factory=None,
                video_frame_callback=callback,
                audio_frame_callback=None,
                queued_video_frames_callback=None,
                queued_audio_frames_callback=None,
                on_video_ended=None,
                on_audio_ended=None,
                video_processor_factory=None,
                audio_processor_factory=None,
                async_processing=True,
                video_receiver_size=4,
                audio_receiver_size=4,
                sendback_video=True,
                sendback_audio=False,
                loop=loop,
                relay=relay,
            )
            workers.append(worker)
            kind, sdp = here.recv()
            answer = worker.process_offer(sdp, "offer", timeout=30)
            here.send(answer.sdp)
        kind, _ = here.recv()
        time.sleep(min(5.0, seconds / 3))  # ICE, DTLS, the first key frames and recognitions
        clock.reset()
        c0, w0 = time.process_time(), time.monotonic()
        here.send("go")
        kind, fps_back = here.recv()
        wall = time.monotonic() - w0
        total = time.process_time() - c0
        codec = negotiated_codec(workers[0].pc)
    finally:
        for w in workers:
            w.stop(timeout=2)
        undo()
        try:
            phones.wait(20)
        except subprocess.TimeoutExpired:
            phones.kill()
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(5)
        clip_path.unlink(missing_ok=True)
        tmp.rmdir()
    cpu = dict(clock.cpu)
    cpu["convert"] = max(0.0, cpu["convert"] - cpu["process"])  # the callback's time minus process
    cpu["other"] = max(0.0, total - sum(cpu.values()))  # RTP, SRTP, ICE, the event loop, threads
    per_visitor = {k: v / wall / peers for k, v in cpu.items()}
    cores_per_visitor = total / wall / peers
    frames_in = clock.frames["decode"] / wall / peers
    row: dict[str, Any] = {
        "path": path,
        "codec": codec,
        "peers": peers,
        "camera_fps": clip.fps,
        "frames_in_per_s": round(frames_in, 1),
        "frames_back_per_s": round(statistics.median(fps_back), 1) if fps_back else 0,
        **{f"{k}_cores": round(v, 3) for k, v in per_visitor.items()},
        "cores_per_visitor": round(cores_per_visitor, 3),
    }
    # the per-frame stages scale with the frame rate; recognition is paced by the tracker
    per_frame = cores_per_visitor / max(frames_in, 1e-6)
    for fps in (10, 15):
        row[f"visitors_per_core_{fps}fps"] = round(1 / (per_frame * fps), 2)
    return row


async def _make_relay(cls):
    return cls()


# --- the command -----------------------------------------------------------------------------------
def run(
    settings: Settings,
    parts: tuple[str, ...] = ("stages", "inprocess", "webrtc"),
    visitors: tuple[int, ...] = (10,),
    peers: tuple[int, ...] = (3,),
    fps: float = 10.0,
    seconds: float = 20.0,
    paintings: Path | None = None,
) -> dict[str, Any]:
    from .recognition import machine
    from .views import bench_guide, paintings_dir

    ref = bench_guide(paintings or paintings_dir(settings), settings)
    clip = camera_clip(ref, fps)
    result: dict[str, Any] = {"machine": machine(), "yardstick": _yardstick(clip), "fps": fps}
    print(f"yardstick (plain SIFT extraction of clip frames): {result['yardstick']}", flush=True)
    rt = _runtime(ref, settings)
    if "stages" in parts:
        result["stages"] = stages(ref, settings, clip)
        print(table(result["stages"], ["stage", "before_ms", "after_ms", "note"]), flush=True)
    if "inprocess" in parts:
        result["inprocess"] = []
        for n in visitors:
            result["inprocess"].append(inprocess(ref, settings, clip, n, seconds, rt))
            print(table(result["inprocess"][-1:], list(result["inprocess"][-1])), flush=True)
    if "webrtc" in parts:
        result["webrtc"] = []
        for path in ("before", "after"):
            for n in peers:
                result["webrtc"].append(webrtc(ref, settings, clip, n, seconds, path, rt))
                print(table(result["webrtc"][-1:], list(result["webrtc"][-1])), flush=True)
    return result


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench load``: print the tables."""
    result = run(
        settings,
        tuple(p.strip() for p in args.parts.split(",") if p.strip()),
        tuple(int(v) for v in args.load_visitors.split(",")),
        tuple(int(v) for v in args.peers.split(",")),
        args.fps,
        args.seconds,
        Path(args.paintings) if args.paintings else None,
    )
    print(f"\nlens load on {result['machine']}; yardstick {result['yardstick']}")
    if "stages" in result:
        print("\none visitor's server CPU per frame (ms), video path before and after:")
        print(table(result["stages"], ["stage", "before_ms", "after_ms", "note"]))
    if result.get("inprocess"):
        print("\nin-process visitors (threads feeding LensProcessor):")
        print(table(result["inprocess"], list(result["inprocess"][0])))
    if result.get("webrtc"):
        print("\nWebRTC visitors (aiortc peers -> streamlit-webrtc worker -> lens callback), per visitor:")
        print(table(result["webrtc"], list(result["webrtc"][0])))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0
