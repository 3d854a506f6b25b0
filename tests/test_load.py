"""The lens' video path and its load harness, at small size."""

from __future__ import annotations

import fractions
import math
import time

import cv2
import numpy as np
import pytest

from smartlens.lens.webrtc import frame_callback, prefer_codec

CHROME_LIKE_OFFER = "\r\n".join(
    [
        "v=0",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "a=rtpmap:111 opus/48000/2",
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 35",
        "a=mid:1",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 nack",
        "a=rtpmap:97 rtx/90000",
        "a=fmtp:97 apt=96",
        "a=rtpmap:102 H264/90000",
        "a=rtcp-fb:102 nack",
        "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
        "a=rtpmap:103 rtx/90000",
        "a=fmtp:103 apt=102",
        "a=rtpmap:35 AV1/90000",
        "a=ssrc:1 cname:x",
        "",
    ]
)


def test_prefer_codec_puts_h264_and_its_rtx_first_in_mline_and_rtpmap_order():
    out = prefer_codec(CHROME_LIKE_OFFER)
    lines = out.split("\r\n")
    assert "m=video 9 UDP/TLS/RTP/SAVPF 102 103 96 97 35" in lines
    assert "m=audio 9 UDP/TLS/RTP/SAVPF 111" in lines  # audio untouched
    rtpmaps = [line.split()[0] for line in lines if line.startswith("a=rtpmap:") and "opus" not in line]
    assert rtpmaps == ["a=rtpmap:102", "a=rtpmap:103", "a=rtpmap:96", "a=rtpmap:97", "a=rtpmap:35"]

    def others(sdp_lines):
        return sorted(x for x in sdp_lines if not x.startswith("m=video"))

    assert others(lines) == others(CHROME_LIKE_OFFER.split("\r\n"))  # lines moved, none lost or added
    assert lines[-2] == "a=ssrc:1 cname:x"  # lines that are no payload's stay where they were
    # a browser without H.264: the offer is left as it is
    no_h264 = CHROME_LIKE_OFFER.replace("H264", "VP9")
    assert prefer_codec(no_h264) == no_h264


def test_aiortc_answers_with_h264_when_the_offer_is_reordered():
    import asyncio

    from aiortc import RTCPeerConnection, RTCSessionDescription

    from smartlens.lens.webrtc import negotiated_codec

    async def negotiate(reorder: bool) -> str | None:
        phone, server = RTCPeerConnection(), RTCPeerConnection()
        phone.addTransceiver("video", direction="sendrecv")
        await phone.setLocalDescription(await phone.createOffer())
        sdp = phone.localDescription.sdp
        await server.setRemoteDescription(
            RTCSessionDescription(prefer_codec(sdp) if reorder else sdp, "offer")
        )
        await server.setLocalDescription(await server.createAnswer())
        await phone.setRemoteDescription(server.localDescription)
        codecs = negotiated_codec(server), negotiated_codec(phone)
        await phone.close()
        await server.close()
        assert codecs[0] == codecs[1]
        return codecs[0]

    assert asyncio.run(negotiate(False)) == "VP8"  # aiortc's own order
    assert asyncio.run(negotiate(True)) == "H264"


def _yuv_frame(image: np.ndarray):
    import av

    frame = av.VideoFrame.from_ndarray(cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
    frame.pts, frame.time_base = 1234, fractions.Fraction(1, 90000)
    return frame


def test_frame_callback_converts_both_ways_and_passes_untouched_frames_through():
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8), (9, 9), 3)
    frame = _yuv_frame(image)
    seen = []

    def untouched(bgr):
        seen.append(bgr)
        return bgr

    assert frame_callback(untouched)(frame) is frame
    assert seen[0].shape == (480, 640, 3) and np.abs(seen[0].astype(int) - image).mean() < 4

    def boxed(bgr):
        out = bgr.copy()
        cv2.rectangle(out, (100, 100), (300, 200), (0, 0, 255), -1)
        return out

    out = frame_callback(boxed)(frame)
    assert out is not frame and out.pts == 1234 and out.time_base == frame.time_base
    back = out.to_ndarray(format="bgr24")
    assert back.shape == (480, 640, 3)
    assert back[150, 200, 2] > 200 and back[150, 200, 0] < 60  # the red box came back red


def test_fast_h264_encoder_encodes_and_decodes():
    from aiortc.codecs.h264 import H264Decoder
    from aiortc.jitterbuffer import JitterFrame

    from smartlens.lens.webrtc import _fast_h264_encoder

    encoder, decoder = _fast_h264_encoder()(), H264Decoder()
    image = cv2.resize(np.indices((48, 64)).sum(0).astype(np.uint8) * 2, (640, 480))
    frame = _yuv_frame(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR))
    payloads, timestamp = encoder.encode(frame, force_keyframe=True)
    assert payloads and encoder.codec is not None
    from aiortc.codecs.h264 import h264_depayload

    data = b"".join(h264_depayload(p) for p in payloads)
    decoded = decoder.decode(JitterFrame(data=data, timestamp=timestamp))
    assert decoded and decoded[0].width == 640


def test_in_process_load_two_visitors(demo_guide, base_settings):
    from smartlens.bench.clip import camera_clip
    from smartlens.bench.load_inprocess import inprocess
    from smartlens.lens.runtime import load_runtime

    clip = camera_clip(demo_guide, fps=10, seconds_each=1.0)
    assert len(clip.cuts()) == len(demo_guide.guide.artworks)
    row = inprocess(load_runtime(str(demo_guide.root), base_settings), clip, visitors=2, seconds=3.0)
    assert row["visitors"] == 2
    assert row["fps_back_min"] > 0
    assert row["latency_p50_ms"] is not None and 0 < row["latency_p50_ms"] <= row["latency_p95_ms"]
    assert math.isfinite(row["cores_per_visitor"]) and 0 < row["cores_per_visitor"] < 2
    assert row["recognitions_per_s"] > 0


def test_stage_clock_counts_a_thread_that_runs_a_few_milliseconds():
    """A stage thread that spins 3 ms in all is counted to the millisecond (the kernel's tick
    counter samples it at 10 ms and says 0 most of the time); a thread started after the clock
    started counts from zero."""
    import threading

    from smartlens.bench.resources import StageClock

    def spin() -> None:
        t0 = time.thread_time()
        while time.thread_time() - t0 < 0.003:
            pass
        time.sleep(0.3)

    clock = StageClock(lambda name: "spin" if name == "spinner" else "other")
    clock.start()
    worker = threading.Thread(target=spin, name="spinner")
    worker.start()
    time.sleep(0.15)
    spent = clock.stop()
    worker.join()
    assert 0.003 <= spent["spin"] < 0.05, spent


def test_a_simulated_phone_gets_processed_frames_back_over_webrtc(demo_guide, base_settings):
    from smartlens.bench.clip import camera_clip
    from smartlens.bench.load_webrtc import webrtc
    from smartlens.lens.runtime import load_runtime

    clip = camera_clip(demo_guide, fps=10, seconds_each=0.5)
    t0 = time.monotonic()
    row = webrtc(load_runtime(str(demo_guide.root), base_settings), clip, peers=1, seconds=3.0, path="after")
    assert row["codec"] == "H264"  # the phone offered VP8 first; the lens answered H.264
    assert row["frames_in_per_s"] > 0 and row["frames_back_per_s"] > 0
    # each stage is seen on its own threads: the phone's frames decoded, the lens' sent back encoded
    assert row["decode_cores"] > 0 and row["encode_cores"] > 0 and row["process_cores"] > 0
    assert math.isfinite(row["cores_per_visitor"])
    assert row["visitors_per_core_10fps"] > 0
    print(f"\nwebrtc load test took {time.monotonic() - t0:.1f} s: {row}")


@pytest.mark.parametrize("odd", [(481, 641)])
def test_frame_callback_handles_odd_sizes(odd):
    import av

    image = np.full((*odd, 3), 120, np.uint8)
    frame = av.VideoFrame.from_ndarray(image, format="bgr24")
    out = frame_callback(lambda bgr: bgr + 1)(frame)
    assert out.width == odd[1] and out.height == odd[0]
