"""``smartlens augment``, ``train`` and ``gate``: views, trainings and open-set gates.

The training options are generated from each method's parameter class (the one source of their
defaults and help texts): an option not given takes the chosen method's own default.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import Settings
from ..errors import UserError
from ..methods import trainable, training_of
from ..params import parse_params
from .common import Subparsers, add_param_options, handles, params_from_args, progress_printer

#: Training parameters that do not change the views (left out of ``augment --for-training``).
NOT_FOR_VIEWS = (
    "budget_minutes",
    "epochs",
    "size",
    "batch_size",
    "learning_rate",
    "frozen_features",
    "frozen_backbone",
)


def _augment(args: argparse.Namespace, settings: Settings) -> int:
    from ..augment.engine import AugmentParams, generate
    from ..guide import load_guide

    if args.for_training:
        return _training_views(args, settings)
    if not args.out:
        raise UserError("augment needs --out DIR (or --for-training, for the views training reads)")
    given = {k: getattr(args, k) for k in ("per_image", "preset", "negatives", "seed") if hasattr(args, k)}
    params = parse_params(
        AugmentParams,
        {
            **given,
            "blocks": tuple(args.transforms.split(",")) if args.transforms else None,
            "max_side": args.max_side,
        },
        "option",
    )
    r = generate(
        load_guide(args.guide, settings),
        Path(args.out),
        params,
        workers=int(args.workers) if getattr(args, "workers", None) else None,
        force=args.force,
        progress=progress_printer("augment"),
    )
    print(
        f"{r.total} samples in {r.out} ({r.made} made now, {r.skipped} already there) in {r.seconds:.1f} s: "
        f"{r.per_second:.1f} images/s on {r.workers} worker(s)"
    )
    return 0


def _training_views(args: argparse.Namespace, settings: Settings) -> int:
    """``augment --for-training``: make (or reuse) exactly the views ``train`` reads."""
    from ..guide import load_guide

    training = training_of(args.method)
    params = params_from_args(training.params, args)
    views = training.views(load_guide(args.guide, settings), settings, params, progress_printer("augment"))
    print(f"training views: {views.train}")
    print(f"validation views (every choice): {views.validation}")
    print(f"report views (the figures): {views.report}")
    print(
        f"made in {views.seconds:.1f} s, {views.negative_pictures} real negative picture(s), "
        f"{views.check_photos} check photo(s); "
        f"'train --guide {args.guide} --method {args.method}' with the same options reads them"
    )
    return 0


def _train(args: argparse.Namespace, settings: Settings) -> int:
    from ..guide import load_guide

    training = training_of(args.method)
    params = params_from_args(training.params, args)
    result = training.train(load_guide(args.guide, settings), settings, params, progress_printer("train"))
    stopped = " (stopped by the budget)" if result.stopped_early else ""
    print(f"saved {result.model_dir} in {result.seconds / 60:.1f} min{stopped}")
    print(training.figures(result.metrics))
    gate_line(result.metrics.get("open_set_gate") or {})
    return 0


def gate_line(report: dict) -> None:
    """What a model's open-set gate does on its validation views, in one line."""
    if not report.get("available"):
        print(f"no open-set gate: {report.get('why', 'none built')}")
        return
    print(
        f"open-set gate: at least {report['min_inliers']} agreeing keypoints; on {report['validation_views']} "
        f"validation views it keeps {100 * (report.get('kept') or 0):.1f}% of the right answers "
        f"({100 * (report.get('right') or 0):.1f}% right); negatives named "
        f"{100 * (report.get('negatives_named') or 0):.1f}% of {report['validation_negatives']}; "
        f"another painting passing as one of the guide: {100 * (report.get('other_paintings_named') or 0):.1f}%"
    )


def _gate(args: argparse.Namespace, settings: Settings) -> int:
    """(Re)build a trained model's open-set gate from the views it was trained on."""
    from ..guide import load_guide
    from ..methods.gate import rebuild_gate
    from ..model_store import latest_model

    ref, progress = load_guide(args.guide, settings), progress_printer("gate")
    model = Path(args.model) if args.model else latest_model(ref.guide.name, args.method, settings)
    metrics = rebuild_gate(model, ref, settings, progress)
    training = training_of(args.method)
    print(f"{model.name}:")
    gate_line(metrics.get("open_set_gate") or {})
    print(training.figures(metrics))
    return 0 if (metrics.get("open_set_gate") or {}).get("available") else 1


def register(sub: Subparsers) -> None:
    """``augment``, ``train``, ``gate``."""
    learned = {s.name: s.training.params for s in trainable() if s.training is not None}
    names, default = list(learned), next(iter(learned))

    au = handles(
        sub.add_parser("augment", help="generate augmented training views of a guide's artworks and details"),
        _augment,
    )
    au.add_argument("--guide", required=True)
    au.add_argument("--out", help="output folder (not with --for-training)")
    au.add_argument(
        "--for-training",
        action="store_true",
        help="make (or reuse) the views 'train --method M' reads with the same options, in its cache, "
        "and print where they are",
    )
    au.add_argument("--method", default=default, choices=names, help="--for-training: the training's method")
    au.add_argument(
        "--transforms",
        help="custom comma separated transform blocks (BLOCKS in smartlens/augment/transforms.py)",
    )
    au.add_argument(
        "--max-side", type=int, default=640, help="longer side of the saved views (not --for-training)"
    )
    au.add_argument("--force", action="store_true", help="start over in an --out holding another run")
    # without --for-training, --per-image, --negatives, --preset and --seed set the plain views
    # (defaults: AugmentParams' own, 20 views and no negatives)
    add_param_options(au, learned, skip=NOT_FOR_VIEWS)

    t = handles(sub.add_parser("train", help="train a recogniser on a guide (runs on the CPU)"), _train)
    t.add_argument("--guide", required=True)
    t.add_argument("--method", default=default, choices=names)
    add_param_options(t, learned)

    ga = handles(
        sub.add_parser(
            "gate", help="(re)build a trained model's open-set gate, which refuses paintings not in the guide"
        ),
        _gate,
    )
    ga.add_argument("--guide", required=True)
    ga.add_argument("--method", default=default, choices=names)
    ga.add_argument("--model", help="a model folder (default: the newest of the method for the guide)")
