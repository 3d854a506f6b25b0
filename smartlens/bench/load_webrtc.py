"""``bench load --parts webrtc``: N simulated phones (:mod:`.phones`, aiortc peers in another
process) stream the clip to streamlit-webrtc's own ``WebRtcWorker`` with the lens' frame callback,
bypassing only the Streamlit page; the server's CPU per visitor split by stage, and the visitors
per core it implies.

Nothing of aiortc or streamlit-webrtc is wrapped to measure it: each stage is the CPU time of the
threads that do it, read from ``/proc`` (:class:`~.resources.StageClock`): aiortc decodes on a
``video-decoder`` thread per phone and encodes on its event loop's executor (``asyncio_*``),
streamlit-webrtc runs the callback on its ``async_media_processor_*`` thread, the lens recognises
on its slots (``lens-recognition-*``); the callback's own time is split into conversions and
``process`` by timing ``process`` inside it.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..lens.runtime import LensRuntime
from .clip import Clip
from .phones import Pipe
from .resources import StageClock

#: the phones' codecs per path: before, VP8 (what the lens answered first); after, what a phone
#: offers (VP8 first, as Chrome does), the lens answering H.264
PHONE_CODECS = {"before": ["VP8"], "after": ["VP8", "H264"]}


def _stage_of(thread: str) -> str:
    if thread.startswith("video-decoder"):
        return "decode"
    if thread.startswith("asyncio_"):
        return "encode"
    if thread.startswith("async_media_processor"):
        return "callback"
    if thread.startswith("lens-recognition"):
        return "recognise"
    return "other"


def pyav_callback(process: Callable[[np.ndarray], np.ndarray]) -> Callable[[Any], Any]:
    """The frame callback before the video path's changes: PyAV's own conversions both ways."""
    import av

    def callback(frame: Any) -> Any:
        out = av.VideoFrame.from_ndarray(process(frame.to_ndarray(format="bgr24")), format="bgr24")
        out.pts, out.time_base = frame.pts, frame.time_base
        return out

    return callback


def webrtc(rt: LensRuntime, clip: Clip, peers: int, seconds: float, path: str) -> dict[str, Any]:
    """``peers`` simulated phones through streamlit-webrtc's worker; ``path``: "before" (VP8, PyAV
    conversions) or "after" (the lens' video path: H.264 answered first, OpenCV conversions)."""
    from aiortc.contrib.media import MediaRelay
    from streamlit_webrtc.webrtc import WebRtcMode, WebRtcWorker

    from ..lens.webrtc import answered_codec, frame_callback, install_video_path

    if path == "after":
        install_video_path()
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, name="bench-webrtc-loop", daemon=True)
    loop_thread.start()
    relay = asyncio.run_coroutine_threadsafe(_make_relay(MediaRelay), loop).result()
    tmp = Path(tempfile.mkdtemp(prefix="smartlens-load-"))
    clip_path = tmp / "clip.npy"
    np.save(clip_path, clip.frames)
    phones = subprocess.Popen(
        [sys.executable, "-c", "from smartlens.bench.phones import main; main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    here = Pipe(phones.stdout, phones.stdin)
    workers: list = []
    procs = []
    process_cpu = [0.0]
    lock = threading.Lock()
    codec = None
    try:
        here.send([str(clip_path), clip.fps, peers, seconds, PHONE_CODECS[path]])
        for i in range(peers):
            proc = rt.new_processor(f"webrtc-{i}", rt.ref.guide.default_language)
            procs.append(proc)

            def timed_process(image, _p=proc.process):
                t0 = time.thread_time()
                try:
                    return _p(image)
                finally:
                    with lock:
                        process_cpu[0] += time.thread_time() - t0

            callback = frame_callback(timed_process) if path == "after" else pyav_callback(timed_process)
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
                on_video_ended=proc.close,
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
            codec = answered_codec(answer.sdp)
            here.send(answer.sdp)
        kind, _ = here.recv()
        time.sleep(min(5.0, seconds / 3))  # ICE, DTLS, the first key frames and recognitions
        clock = StageClock(_stage_of)
        frames0 = sum(p.stats().frames for p in procs)
        with lock:
            process_cpu[0] = 0.0
        clock.start()
        c0, w0 = time.process_time(), time.monotonic()
        here.send("go")
        kind, fps_back = here.recv()
        wall = time.monotonic() - w0
        total = time.process_time() - c0
        frames_in = (sum(p.stats().frames for p in procs) - frames0) / wall / peers
        cpu = clock.stop()
        here.send("close")
        with lock:
            cpu["process"] = process_cpu[0]
    finally:
        for w in workers:
            w.stop(timeout=2)
        try:
            phones.wait(20)
        except subprocess.TimeoutExpired:
            phones.kill()
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(5)
        clip_path.unlink(missing_ok=True)
        tmp.rmdir()
    stages = {
        "decode": cpu.get("decode", 0.0),
        "convert": max(0.0, cpu.get("callback", 0.0) - cpu["process"]),  # the callback minus process
        "process": cpu["process"],
        "recognise": cpu.get("recognise", 0.0),
        "encode": cpu.get("encode", 0.0),
    }
    stages["other"] = max(0.0, total - sum(stages.values()))  # RTP, SRTP, ICE, the event loop
    per_visitor = {k: v / wall / peers for k, v in stages.items()}
    cores_per_visitor = total / wall / peers
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
