"""``smartlens index``, ``recognize`` and ``annotate``: recognisers run on files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..config import Settings
from ..methods import METHODS, method_spec
from ..vocabulary import Method, RetrievalMode, choices
from .common import Subparsers, handles, progress_printer


def _index(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import load_guide
    from ..methods.retrieval import load_retrieval

    rec = load_retrieval(
        load_guide(args.guide, settings),
        settings,
        args.mode,
        rebuild=args.rebuild,
        progress=progress_printer(f"index ({args.mode})"),
    )
    i = rec.info
    print(
        f"{'built' if i.built else 'up to date'}: {i.mode} index of {i.artworks} artworks, "
        f"{i.entries} entries, {i.nbytes / 2**20:.1f} MiB, {i.seconds:.1f} s -> {i.path}"
    )
    if i.report:
        print("calibration: " + ", ".join(f"{k}={v}" for k, v in i.report.items()))
    return 0


def _recognize(args: argparse.Namespace, settings: Settings) -> int:
    from ..errors import ImageError
    from ..guide import load_guide
    from ..imaging import read_image
    from ..methods import load_recognizer

    rec = load_recognizer(
        load_guide(args.guide, settings),
        settings,
        args.method,
        args.mode,
        model=args.model,
        progress=progress_printer("loading"),
    )
    from ..escaping import terminal

    status = 0
    for path in args.images:
        try:
            result = rec.recognize(read_image(path, settings.image_limits))
        except ImageError as exc:
            # the results stay on stdout, one per good image; each bad one is an error line
            where = "" if str(exc).startswith(str(path)) else f"{path}: "  # read_image names the file
            print(f"error: {terminal(where)}{terminal(exc)}", file=sys.stderr)
            status = 2
            continue
        if args.json:
            print(json.dumps(result.to_json(path)), flush=True)
        else:
            details = ", ".join(f"{d.id} ({d.score:.2f})" for d in result.details) or "-"
            print(
                f"{terminal(path)}: {result.artwork or 'nothing'} (score {result.score:.2f}; details: {details}; "
                f"{result.ms:.0f} ms)"
            )
    return status


def _annotate(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import load_guide
    from ..preannotate import propose_from_detector, propose_from_retrieval

    ref = load_guide(args.guide, settings)
    images = Path(args.images) if args.images else None
    if args.from_guide:
        made = propose_from_retrieval(ref, load_guide(args.from_guide, settings), settings, images)
    else:
        made = propose_from_detector(ref, settings, args.model, images, args.min_score)
    for p in made:
        print(
            f"{p.id}: {p.artwork} {p.label} score {p.score:.2f} box {[round(v) for v in p.box]} ({p.source})"
        )
    print(
        f"{len(made)} proposal(s) saved in {ref.root / 'proposals.json'}; accept or reject them in the studio"
    )
    return 0


def register(sub: Subparsers) -> None:
    """``index``, ``recognize``, ``annotate``."""
    retrieval = method_spec(Method.RETRIEVAL)
    ix = handles(sub.add_parser("index", help="build (or check) a guide's retrieval index"), _index)
    ix.add_argument("--guide", required=True)
    ix.add_argument("--mode", default=retrieval.default_mode, choices=retrieval.modes)
    ix.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")

    r = handles(sub.add_parser("recognize", help="recognise artworks and details in image files"), _recognize)
    r.add_argument("--guide", required=True)
    r.add_argument("--method", default=Method.RETRIEVAL, choices=list(METHODS))
    r.add_argument("--mode", choices=choices(RetrievalMode), help="retrieval: verified (default) or baseline")
    r.add_argument("--model", help="classification/detection: a model folder (default: newest for the guide)")
    r.add_argument("--json", action="store_true", help="one JSON line per image")
    r.add_argument("images", nargs="+")

    an = handles(
        sub.add_parser(
            "annotate", help="propose detail boxes on a guide's artwork images (marked automatic)"
        ),
        _annotate,
    )
    an.add_argument("--guide", required=True)
    an.add_argument("--model", help="a detection model folder (default: the newest for the guide)")
    an.add_argument(
        "--images",
        help="pictures to annotate, named <artwork id>.jpg/.png (default: the artworks' own images)",
    )
    an.add_argument(
        "--from-guide", help="propose the details of this other guide that verified retrieval finds instead"
    )
    an.add_argument(
        "--min-score",
        type=float,
        help="detection: propose boxes above this score (default: calibrated thresholds)",
    )
