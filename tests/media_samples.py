"""Real media files for the tests, encoded on the spot with PyAV (FFmpeg) and Pillow, and the fakes
that only look like them (right first bytes, wrong everything else)."""

from __future__ import annotations

import io

import av
import numpy as np
from PIL import Image


def audio(fmt: str = "wav", codec: str = "pcm_s16le", rate: int = 44100, seconds: float = 0.5) -> bytes:
    """A tone of ``seconds`` in the container ``fmt`` (wav, mp3, ogg, ipod = m4a)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        t = np.arange(int(rate * seconds)) / rate
        pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype(np.int16)[None, :]
        frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return buf.getvalue()


def video(fmt: str = "mp4", codec: str = "libx264", frames: int = 10) -> bytes:
    """A 1 s clip of 64x48 frames (mp4 = H.264, webm = VP8)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for k in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 20 * k, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def picture(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A picture in Pillow's format ``fmt`` (JPEG, PNG, GIF, TIFF, AVIF...)."""
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, fmt)
    return buf.getvalue()


def wav() -> bytes:
    return audio("wav", "pcm_s16le")


def mp3() -> bytes:
    return audio("mp3", "libmp3lame")


def ogg() -> bytes:
    return audio("ogg", "libopus", rate=48000)


def m4a() -> bytes:
    return audio("ipod", "aac")


def mp4() -> bytes:
    return video("mp4", "libx264")


def webm() -> bytes:
    return video("webm", "libvpx")


VTT = b"WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nThe harbour at dawn.\n"

#: Files that start like media and are not (what a careless or hostile upload brings).
FAKES = {
    "ID3 then a web page": b"ID3<html><script>alert(1)</script></html>",
    "12-byte RIFF WAVE": b"RIFF\x04\x00\x00\x00WAVE",
    "bare webm signature": b"\x1a\x45\xdf\xa3",
    "HEIC header": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200),
}
