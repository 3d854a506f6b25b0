"""``smartlens bench NAME``: the benchmarks, each with its own options (``smartlens/bench/``)."""

from __future__ import annotations

import argparse
import importlib

from ..config import Settings
from .common import Subparsers, handles


def _run(args: argparse.Namespace, settings: Settings) -> int:
    return int(importlib.import_module(f"..bench.{args.sub}", __package__).main(args, settings))


def register(sub: Subparsers) -> None:
    """``bench recognition|backbone|augment|lens|tracking|load|soak|events``."""
    b = sub.add_parser(
        "bench", help="benchmarks (each prints its figures; --json FILE saves them)"
    ).add_subparsers(dest="sub", required=True)

    def bench(name: str, helptext: str) -> argparse.ArgumentParser:
        p = handles(b.add_parser(name, help=helptext), _run)
        p.add_argument("--json", help="write the figures as JSON here")
        return p

    def paintings(p: argparse.ArgumentParser) -> None:
        p.add_argument("--paintings", help="folder with artworks.json (default ../shared/data/paintings)")

    r = bench("recognition", "every method on camera views of the shared paintings, easy and hard")
    paintings(r)
    r.add_argument(
        "--methods",
        default="retrieval/verified,retrieval/baseline,classification",
        help="comma separated methods[/mode]",
    )
    r.add_argument(
        "--weights",
        default="setting",
        help="weights to try for weight-dependent methods, comma separated: 'setting' (SMARTLENS_WEIGHTS), "
        "'none', or a path",
    )
    r.add_argument(
        "--levels",
        default="easy,hard",
        help="levels of difficulty, comma separated: easy, hard (both by default)",
    )
    r.add_argument(
        "--set",
        default="test",
        choices=("test", "dev"),
        help="test: the views reported; dev: other views of other paintings (mirrored), to tune on",
    )
    r.add_argument(
        "--verified-params",
        help="also score verified retrieval with these parameters changed, as JSON (to compare: "
        '\'{"query_side": 440, "query_features": 600, "query_sharp": false, "query_contrast": 0.02, '
        '"recount": false, "pca_dims": 64, "patch_descriptors": false, "flann_checks": 16, "first_look": 0}\' '
        "is the method before the hard level)",
    )
    # defaults: the mix of views a visitor's camera gives (synth.camera.VIEW_MIX)
    r.add_argument("--views", type=int, help="whole views per artwork")
    r.add_argument("--detail-views", type=int, help="close-ups per detail")
    r.add_argument("--negatives", type=int, default=100)
    r.add_argument(
        "--guide-split",
        type=int,
        help="the first N paintings form the guide, the next one is its curator negative, the rest are "
        "held-out negatives (never trained or calibrated on)",
    )
    r.add_argument(
        "--train-minutes",
        help="train each learned method within this budget first: minutes (20) or minutes per method "
        "(classification=20,detection=30)",
    )
    r.add_argument("--scale", default="", help="grown guide sizes, e.g. 100,1000")
    r.add_argument("--scale-methods", default="retrieval/verified")
    r.add_argument("--samples", help="write a contact sheet of test views here (PNG)")
    r.add_argument("--show-failures", action="store_true")

    bench("backbone", "one frame through the MobileNetV3 call paths").add_argument(
        "--repeat", type=int, default=30, help="calls per measurement"
    )
    bench("augment", "augmented views per second on 1 and on all cores").add_argument(
        "--per-image", type=int, default=20, help="images per source image"
    )
    ln = bench("lens", "a real lens server and headless Chromium visitors")
    ln.add_argument("--visitors", default="1,3", help="simultaneous browser visitors, comma separated")
    ln.add_argument("--seconds", type=float, default=20.0, help="how long each visitor watches")
    ln.add_argument(
        "--methods",
        default="retrieval",
        help="comma separated: retrieval, classification, detection (the guide's newest model of each), "
        "or published (what the studio published for the guide)",
    )
    ln.add_argument(
        "--guide", help="the guide to serve (default: the shared paintings); it must hold mona-lisa"
    )

    tr = bench("tracking", "a virtual phone over a painting through the lens' frame loop")
    paintings(tr)
    tr.add_argument("--frames", type=int, default=90, help="frames of the camera path")
    tr.add_argument("--fps", type=float, default=10.0, help="the camera's frame rate")

    ld = bench(
        "load", "one visitor's stages, recognitions in parallel, N in-process visitors, N WebRTC phones"
    )
    paintings(ld)
    ld.add_argument(
        "--parts", default="stages,inprocess,webrtc", help="comma separated: stages,parallel,inprocess,webrtc"
    )
    ld.add_argument(
        "--callers", default="1,2", help="parallel: visitors recognising at once, comma separated"
    )
    ld.add_argument(
        "--repeats", type=int, default=3, help="parallel: alternating repeats of each measurement"
    )
    ld.add_argument("--load-visitors", default="10", help="in-process visitors, comma separated")
    ld.add_argument("--peers", default="3", help="simulated WebRTC phones, comma separated")
    ld.add_argument("--fps", type=float, default=10.0, help="each visitor's camera frame rate")
    ld.add_argument("--seconds", type=float, default=20.0, help="how long each run lasts")

    sk = bench("soak", "visitors arriving and leaving a lens process for a long time: memory, threads, files")
    paintings(sk)
    sk.add_argument("--minutes", type=float, default=30.0, help="how long visitors keep coming")
    sk.add_argument("--visitors", type=int, default=4, help="visitors at once, on average")
    sk.add_argument("--fps", type=float, default=8.0, help="each visitor's camera frame rate")
    sk.add_argument("--session-s", default="15,45", help="how long a visitor streams: shortest,longest (s)")
    sk.add_argument("--keep-s", type=float, default=20.0, help="a closed page's session is kept this long")
    sk.add_argument("--switch-min", type=float, default=10.0, help="reload the runtime this often (0: never)")

    ev = bench("events", "the event writer's rate, dashboard queries at 1M/10M events")
    ev.add_argument("--events", default="1000000,10000000", help="synthetic store sizes, comma separated")
    ev.add_argument("--write-seconds", type=float, default=5.0, help="how long the writer test runs")
