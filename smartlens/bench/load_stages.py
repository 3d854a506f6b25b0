"""``bench load --parts stages``: one visitor's server CPU per frame, stage by stage (decode,
conversion, recognition and tracking with drawing, drawing alone, encode), for the video path
before and after its changes (VP8 + PyAV conversions, against H.264 ``ultrafast`` + OpenCV
conversions). Each stage is called directly, on the clip's frames."""

from __future__ import annotations

import fractions
import statistics
import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ..lens.runtime import LensRuntime
from .clip import FRAME, Clip


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


def stages(rt: LensRuntime, clip: Clip) -> list[dict]:
    """CPU per frame of each stage of one visitor, before and after the video path changes."""
    import av
    from aiortc.codecs import get_encoder
    from aiortc.rtcrtpparameters import RTCRtpCodecParameters

    from ..drawing import draw
    from ..lens.webrtc import _fast_h264_encoder

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
    proc.close()
    recs = [rt.recognizer.recognize(f) for f in frames[:: max(1, len(frames) // 20)]]
    names = {d.id: d.id for a in rt.ref.guide.artworks for d in a.details}
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
