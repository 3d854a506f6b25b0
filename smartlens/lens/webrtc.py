"""The lens' video path over WebRTC: ICE servers, camera constraints, codec, frame conversion.

Measured on a 2-core machine for one 640x480 frame (``python -m smartlens bench load --parts stages``):
aiortc's own H.264 encoder (libx264 at its default preset) costs ~18 ms, its VP8 encoder ~8 ms,
libx264 ``ultrafast`` + ``zerolatency`` ~2.5 ms; PyAV's ``to_ndarray("bgr24")`` and
``from_ndarray(..., "bgr24")`` ~2.5 ms each where OpenCV's I420<->BGR takes ~0.4 ms. So the lens
answers offers with H.264 first (when the browser offers it), encodes it at ``ultrafast``, and
converts frames with OpenCV; :func:`install_video_path` sets up the first two, once per process.
"""

from __future__ import annotations

import fractions
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np

from ..config import Settings
from .failures import Failures


def ice_servers(settings: Settings) -> list[dict]:
    """ICE servers from the ``ice_servers`` setting (comma separated URLs; empty = LAN only).

    With none, peers use their host candidates: enough when phone and server share a network,
    and nothing is asked of the internet. ``turn:`` URLs may carry credentials as
    ``turn:user:password@host:port``.
    """
    raw = settings.ice_servers.strip()
    servers: list[dict] = []
    for url in filter(None, (u.strip() for u in raw.split(","))):
        if url.startswith(("turn:", "turns:")) and "@" in url:
            scheme, rest = url.split(":", 1)
            creds, host = rest.rsplit("@", 1)
            user, _, password = creds.partition(":")
            servers.append({"urls": [f"{scheme}:{host}"], "username": user, "credential": password})
        else:
            servers.append({"urls": [url]})
    return servers


def rtc_configuration(settings: Settings) -> dict:
    """streamlit-webrtc's ``rtc_configuration`` for these settings."""
    return {"iceServers": ice_servers(settings)}


#: The phone's rear camera at the resolution recognition needs, at most 15 frames/s: each frame
#: costs the server a decode, a conversion and an encode, and tracking needs no more.
MEDIA_CONSTRAINTS = {
    "video": {
        "facingMode": {"ideal": "environment"},
        "width": {"ideal": 640, "max": 1280},
        "height": {"ideal": 480, "max": 960},
        "frameRate": {"ideal": 15, "max": 15},
    },
    "audio": False,
}

#: The codec the lens asks for first; VP8 stays as the fallback for browsers without it.
PREFERRED_CODEC = "H264"


def prefer_codec(sdp: str, codec: str = PREFERRED_CODEC) -> str:
    """``sdp`` with ``codec``'s payload types (and their RTX) first in every video m-line.

    An answerer lists codecs in the offer's order (aiortc does), and a sender uses the first
    codec of the answer, so reordering the offer picks the codec for both directions.
    """
    lines = sdp.split("\r\n") if "\r\n" in sdp else sdp.split("\n")
    sep = "\r\n" if "\r\n" in sdp else "\n"
    out: list[str] = []
    section: list[str] = []

    def flush() -> None:
        if section and section[0].startswith("m=video "):
            out.extend(_reorder(section, codec))
        else:
            out.extend(section)
        section.clear()

    for line in lines:
        if line.startswith("m="):
            flush()
        section.append(line)
    flush()
    return sep.join(out)


def _reorder(section: list[str], codec: str) -> list[str]:
    head = section[0].split(" ")
    payloads = head[3:]
    names = {m[1]: m[2] for m in (re.match(r"a=rtpmap:(\d+) ([^/]+)", s) for s in section) if m}
    wanted = {p for p in payloads if names.get(p, "").upper() == codec.upper()}
    if not wanted:
        return section
    rtx = {
        m[1]
        for m in (re.match(r"a=fmtp:(\d+) apt=(\d+)", s) for s in section)
        if m and m[2] in wanted and names.get(m[1], "").lower() == "rtx"
    }
    first = [p for p in payloads if p in wanted or p in rtx]
    order = first + [p for p in payloads if p not in first]
    # the payloads' own lines follow the same order: some answerers (aiortc) read the rtpmap
    # lines' order, not the m-line's
    per_payload: dict[str, list[str]] = {p: [] for p in order}
    rest: list[str] = []
    at = None
    for line in section[1:]:
        m = re.match(r"a=(?:rtpmap|fmtp|rtcp-fb):(\d+)[ ]", line)
        if m and m[1] in per_payload:
            at = len(rest) if at is None else at
            per_payload[m[1]].append(line)
        else:
            rest.append(line)
    block = [line for p in order for line in per_payload[p]]
    at = len(rest) if at is None else at
    return [" ".join(head[:3] + order)] + rest[:at] + block + rest[at:]


def answered_codec(sdp: str) -> str | None:
    """The video codec an SDP answer chose (the first payload type of its m=video line)."""
    m = re.search(r"^m=video \S+ \S+ (\d+)", sdp, re.M)
    if not m:
        return None
    name = re.search(rf"^a=rtpmap:{m[1]} ([^/\s]+)", sdp, re.M)
    return name[1].upper() if name else None


def negotiated_codec(pc: Any) -> str | None:
    """The video codec an aiortc peer connection sends with (``None`` before negotiation): the
    one its answer, given or received, chose."""
    for desc in (pc.localDescription, pc.remoteDescription):
        if desc is not None and desc.type == "answer":
            return answered_codec(desc.sdp)
    return None


def _fast_h264_encoder() -> Any:
    """aiortc's H.264 encoder with libx264 at ``ultrafast`` (its default preset costs ~7x more)."""
    import av
    from aiortc.codecs.h264 import MAX_FRAME_RATE, H264Encoder

    class FastH264Encoder(H264Encoder):
        def _encode_frame(self, frame: av.VideoFrame, force_keyframe: bool) -> Iterator[bytes]:
            codec = self.codec
            if codec is not None and (
                frame.width != codec.width
                or frame.height != codec.height
                or abs(self.target_bitrate - (codec.bit_rate or 1)) / (codec.bit_rate or 1) > 0.1
            ):
                self.codec = codec = None
            frame.pict_type = (
                av.video.frame.PictureType.I if force_keyframe else av.video.frame.PictureType.NONE
            )
            if codec is None:
                codec = av.CodecContext.create("libx264", "w")
                codec.width, codec.height = frame.width, frame.height
                codec.bit_rate = self.target_bitrate
                codec.pix_fmt = "yuv420p"
                codec.framerate = fractions.Fraction(MAX_FRAME_RATE, 1)
                codec.time_base = fractions.Fraction(1, MAX_FRAME_RATE)
                # one thread: a visitor's encode is small, and the cores serve other visitors
                codec.options = {"level": "31", "tune": "zerolatency", "preset": "ultrafast", "threads": "1"}
                codec.profile = "Baseline"
                self.codec = codec
            data = b"".join(bytes(p) for p in codec.encode(frame))
            if data:
                yield from self._split_bitstream(data)

    return FastH264Encoder


_installed = threading.Lock()
_done: list[bool] = []


def install_video_path() -> None:
    """Make this process' WebRTC workers prefer H.264 and encode it cheaply (idempotent).

    streamlit-webrtc (0.79) has no codec option and aiortc (1.16) no encoder preset option, so
    this wraps the two narrow points where they are chosen: the offer a ``WebRtcWorker``
    answers, and the encoder aiortc's sender makes for a codec.
    """
    with _installed:
        if _done:
            return
        import aiortc.rtcrtpsender as sender
        from streamlit_webrtc.webrtc import WebRtcWorker

        encoder_class = _fast_h264_encoder()
        original_get_encoder = sender.get_encoder

        def get_encoder(codec):
            if codec.mimeType.lower() == "video/h264":
                return encoder_class()
            return original_get_encoder(codec)

        sender.get_encoder = get_encoder
        original_offer = WebRtcWorker.process_offer

        def process_offer(self, sdp, type_, timeout=None):
            return original_offer(self, prefer_codec(sdp) if type_ == "offer" else sdp, type_, timeout)

        WebRtcWorker.process_offer = process_offer  # type: ignore[method-assign]
        _done.append(True)


def frame_callback(
    process: Callable[[np.ndarray], np.ndarray], failures: Failures | None = None
) -> FrameCallback:
    """streamlit-webrtc's ``video_frame_callback`` around ``process`` (BGR array in, BGR array out).

    Converts with OpenCV between the decoder's I420 and BGR (PyAV's own conversion costs ~5x
    more), and sends the decoded frame back untouched when ``process`` drew nothing on it. It never
    raises: in streamlit-webrtc an exception here ends the visitor's worker thread and freezes the
    video on its last frame, so any failure sends the frame back as it came, counted in
    ``failures`` (the callback's ``.failures``) and logged once per kind.
    """
    import av

    seen = failures if failures is not None else Failures()

    def callback(frame: av.VideoFrame) -> av.VideoFrame:
        try:
            return _converted(frame, process)
        except Exception as exc:
            seen.record("frame callback", exc)
            return frame

    return FrameCallback(callback, seen)


class FrameCallback:
    """A frame callback and the failures it counted (what :func:`frame_callback` returns)."""

    def __init__(self, callback: Callable[[Any], Any], failures: Failures):
        self._callback, self.failures = callback, failures

    def __call__(self, frame: Any) -> Any:
        return self._callback(frame)


def _converted(frame: Any, process: Callable[[np.ndarray], np.ndarray]) -> Any:
    import av

    w, h = frame.width, frame.height
    fast = frame.format.name == "yuv420p" and w % 2 == 0 and h % 2 == 0
    if fast:
        image = cv2.cvtColor(frame.to_ndarray(format="yuv420p"), cv2.COLOR_YUV2BGR_I420)
    else:
        image = frame.to_ndarray(format="bgr24")
    drawn = process(image)
    if drawn is image or drawn.shape != image.shape:
        return frame
    if fast:
        i420: Any = cv2.cvtColor(drawn, cv2.COLOR_BGR2YUV_I420)
        out = av.VideoFrame.from_ndarray(i420, format="yuv420p")
    else:
        bgr: Any = np.ascontiguousarray(drawn, np.uint8)
        out = av.VideoFrame.from_ndarray(bgr, format="bgr24")
    out.pts = frame.pts
    if frame.time_base is not None:
        out.time_base = frame.time_base
    return out
