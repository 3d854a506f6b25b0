"""Simulated phones for ``bench load --parts webrtc``: aiortc peers in their own (niced) process.

Each phone streams the clip at the camera's rate and counts the frames the lens sends back. The
clip is encoded once, ahead, in both codecs a phone offers (VP8 and H.264, a key frame every
second), and each phone's track hands aiortc the encoded packets (a track may return
``av.Packet``: aiortc then only packetises them), so the phones' process spends no CPU encoding
while the server is measured. A phone offering fewer codecs than aiortc knows restricts its offer
with aiortc's ``RTCRtpTransceiver.setCodecPreferences``; the packets it sends follow the codec the
server chose (read from the answer's SDP).

Protocol with the server (JSON lines over stdin/stdout, :class:`Pipe`): the server sends
``[clip.npy, fps, phones, seconds, codecs]``; each phone sends ``["offer", sdp]`` and reads the
answer's SDP; then ``["connected", null]``; the server says "go"; after ``seconds`` the phones
send ``["received", [frames back per second, per phone]]`` and close their connections once the
server says "close" (the server's stage clock must read the lens' decoder threads before a closed
connection ends them).
"""

from __future__ import annotations

import asyncio
import fractions
import json
import time
from typing import Any

import cv2
import numpy as np

#: Encoders of the clip, as a phone's hardware would produce it (cheap, one key frame a second).
ENCODERS = {"VP8": "libvpx", "H264": "libx264"}


class Pipe:
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


def encode_clip(frames: np.ndarray, fps: float, codec: str) -> list[bytes]:
    """The clip's frames encoded once (``codec``: VP8 or H264), a key frame every second."""
    import av

    cc: Any = av.CodecContext.create(ENCODERS[codec], "w")
    cc.width, cc.height, cc.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
    cc.time_base = fractions.Fraction(1, 90000)
    cc.framerate = fractions.Fraction(int(round(fps)), 1)
    cc.bit_rate = 1_000_000
    cc.gop_size = max(1, int(round(fps)))
    if codec == "H264":
        # Baseline profile (no B-frames: one packet per frame, as WebRTC wants), Annex B output
        cc.profile = "Baseline"
        cc.options = {"tune": "zerolatency", "preset": "ultrafast", "level": "31"}
    else:
        cc.options = {"deadline": "realtime", "cpu-used": "8", "lag-in-frames": "0"}
    out: list[bytes] = []
    for k, img in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = int(k * 90000 / fps)
        frame.pict_type = (
            av.video.frame.PictureType.I if k % cc.gop_size == 0 else av.video.frame.PictureType.NONE
        )
        data = b"".join(bytes(p) for p in cc.encode(frame))
        out.append(data)
    tail = b"".join(bytes(p) for p in cc.encode(None))
    if tail:
        out[-1] += tail
    return out


def main() -> None:
    """Entry of the phones' process: ``python -c 'from smartlens.bench.phones import main; main()'``."""
    import os
    import sys

    os.nice(10)
    pipe = Pipe(sys.stdin.buffer, sys.stdout.buffer)
    clip_path, fps, count, seconds, codecs = pipe.recv()
    frames = np.load(clip_path, mmap_mode="r")
    encoded = {c: encode_clip(frames, fps, c) for c in codecs}
    asyncio.run(_phones(encoded, fps, count, seconds, codecs, pipe))


async def _phones(
    encoded: dict[str, list[bytes]], fps: float, count: int, seconds: float, codecs: list[str], conn: Pipe
) -> None:
    import av
    from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender, RTCSessionDescription

    from ..lens.webrtc import answered_codec

    n = len(next(iter(encoded.values())))
    gop = max(1, int(round(fps)))

    class EncodedCamera(MediaStreamTrack):
        """A phone camera playing the encoded clip at ``fps`` from a key frame of its own."""

        kind = "video"

        def __init__(self, offset: int):
            super().__init__()
            self.k, self.offset = 0, offset - offset % gop  # start on a key frame
            self.t0: float | None = None
            self.codec: str | None = None  # set once the server has answered

        async def recv(self) -> av.Packet:
            if self.t0 is None:
                self.t0 = time.monotonic()
            wait = float(self.t0) + self.k / fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            i = (self.offset + self.k) % n  # looping to frame 0, a key frame
            packet = av.Packet(encoded[self.codec or codecs[0]][i])
            packet.pts, packet.time_base = int(self.k * 90000 / fps), fractions.Fraction(1, 90000)
            self.k += 1
            return packet

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
    offered = [
        c
        for c in RTCRtpSender.getCapabilities("video").codecs
        if c.mimeType.split("/")[-1].upper() in codecs or c.mimeType.lower() == "video/rtx"
    ]
    for i in range(count):
        pc = RTCPeerConnection()
        pcs.append(pc)
        camera = EncodedCamera(i * n // max(1, count))
        transceiver = pc.addTransceiver(camera, direction="sendrecv")
        if len(offered) < len(RTCRtpSender.getCapabilities("video").codecs):
            # a phone that offers fewer codecs than aiortc has; preferences also order what the
            # phone sends with, so a phone offering every codec keeps the answer's order instead
            transceiver.setCodecPreferences(offered)
        pc.on("track", lambda track, i=i: asyncio.ensure_future(consume(i, track)))
        await pc.setLocalDescription(await pc.createOffer())
        conn.send(["offer", pc.localDescription.sdp])
        sdp = await loop.run_in_executor(None, conn.recv)
        camera.codec = answered_codec(sdp)
        await pc.setRemoteDescription(RTCSessionDescription(sdp, "answer"))
    conn.send(["connected", None])
    await loop.run_in_executor(None, conn.recv)  # the server says: measure from now
    a, t0 = list(received), time.monotonic()
    await asyncio.sleep(seconds)
    b, t1 = list(received), time.monotonic()
    conn.send(["received", [(y - x) / (t1 - t0) for x, y in zip(a, b)]])
    try:
        await loop.run_in_executor(None, conn.recv)  # the server has read its clocks
    except EOFError:
        pass
    for pc in pcs:
        await pc.close()
