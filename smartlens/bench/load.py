"""``python -m smartlens bench load``: what one lens server gives many visitors, without browsers.

Four parts (``--parts``), all over a camera-like clip with motion (:mod:`.clip`):

- ``stages`` (:mod:`.load_stages`): one visitor's server CPU per frame, stage by stage, for the
  video path before and after its changes.
- ``parallel`` (:mod:`.parallel`): full recognitions per second with 1, 2, ... visitors at once
  through the lens' slots, and the process' CPU per wall second.
- ``inprocess`` (:mod:`.load_inprocess`): N visitors, each a thread feeding its own processor at a
  fixed camera rate: frames back, recognitions, frame latency, time to title, CPU.
- ``webrtc`` (:mod:`.load_webrtc`): N simulated phones stream the clip to streamlit-webrtc's own
  worker with the lens' frame callback; the server's CPU per visitor split by stage.

Every timing comes with a yardstick (a plain SIFT extraction of the same frames, in the same run).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..config import Settings
from .clip import camera_clip, clip_yardstick
from .timing import table

PARTS = ("stages", "parallel", "inprocess", "webrtc")


def run(
    settings: Settings,
    parts: tuple[str, ...] = ("stages", "inprocess", "webrtc"),
    visitors: tuple[int, ...] = (10,),
    peers: tuple[int, ...] = (3,),
    fps: float = 10.0,
    seconds: float = 20.0,
    paintings: Path | None = None,
    callers: tuple[int, ...] = (1, 2),
    repeats: int = 3,
) -> dict[str, Any]:
    from ..lens.runtime import load_runtime
    from .recognition import machine
    from .views import bench_guide, paintings_dir

    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown parts {sorted(unknown)}: choose among {', '.join(PARTS)}")
    ref = bench_guide(paintings or paintings_dir(settings), settings)
    clip = camera_clip(ref, fps)
    result: dict[str, Any] = {"machine": machine(), "yardstick": clip_yardstick(clip), "fps": fps}
    print(f"yardstick (plain SIFT extraction of clip frames): {result['yardstick']}", flush=True)
    rt = load_runtime(str(ref.root), settings)
    if "stages" in parts:
        from .load_stages import stages

        result["stages"] = stages(rt, clip)
        print(table(result["stages"], ["stage", "before_ms", "after_ms", "note"]), flush=True)
    if "parallel" in parts:
        from .parallel import gil_free_share, parallel

        result["gil"] = gil_free_share(rt.recognizer, clip)
        print(f"recognition CPU outside the GIL: {result['gil']}", flush=True)
        result["parallel"] = parallel(rt.recognizer, clip, callers, seconds, repeats)
        print(table(result["parallel"], list(result["parallel"][0])), flush=True)
    if "inprocess" in parts:
        from .load_inprocess import inprocess

        result["inprocess"] = []
        for n in visitors:
            result["inprocess"].append(inprocess(rt, clip, n, seconds))
            print(table(result["inprocess"][-1:], list(result["inprocess"][-1])), flush=True)
    if "webrtc" in parts:
        from .load_webrtc import webrtc

        result["webrtc"] = []
        for path in ("before", "after"):
            for n in peers:
                result["webrtc"].append(webrtc(rt, clip, n, seconds, path))
                print(table(result["webrtc"][-1:], list(result["webrtc"][-1])), flush=True)
    return result


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(v) for v in text.split(",") if v.strip())


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench load``: print the tables."""
    result = run(
        settings,
        tuple(p.strip() for p in args.parts.split(",") if p.strip()),
        _ints(args.load_visitors),
        _ints(args.peers),
        args.fps,
        args.seconds,
        Path(args.paintings) if args.paintings else None,
        _ints(args.callers),
        args.repeats,
    )
    print(f"\nlens load on {result['machine']}; yardstick {result['yardstick']}")
    if "stages" in result:
        print("\none visitor's server CPU per frame (ms), video path before and after:")
        print(table(result["stages"], ["stage", "before_ms", "after_ms", "note"]))
    if result.get("parallel"):
        print("\nfull recognitions per second with visitors at once (through the lens' slots):")
        print(table(result["parallel"], list(result["parallel"][0])))
        g = result["gil"]
        print(
            "a recognition's CPU where the GIL is released (OpenCV calls, whole-array numpy): "
            f"{g['gil_free_share']:.0%} of {g['cpu_ms_per_recognition']} ms; "
            f"the speed-up that allows: {g['bound_2']}x with 2 visitors, "
            f"{g['bound_4']}x with 4 (cores permitting)"
        )
    if result.get("inprocess"):
        print("\nin-process visitors (threads feeding LensProcessor):")
        print(table(result["inprocess"], list(result["inprocess"][0])))
    if result.get("webrtc"):
        print("\nWebRTC visitors (aiortc peers -> streamlit-webrtc worker -> lens callback), per visitor:")
        print(table(result["webrtc"], list(result["webrtc"][0])))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str))
    return 0
