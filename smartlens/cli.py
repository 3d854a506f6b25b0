"""``python -m smartlens ...``: one command line for guides, recognition, training and benchmarks."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from .allocator import keep_freed_memory
from .augment.transforms import BLOCKS
from .blas_threads import single_threaded_blas
from .config import Settings, load_settings
from .errors import USER_ERRORS, UserError
from .progress import Progress, ProgressEvent
from .vocabulary import BackboneSize, Method, Preset, RetrievalMode, choices

BENCHMARKS = ("recognition", "backbone", "augment", "lens", "load", "events", "tracking")

Handler = Callable[[argparse.Namespace, Settings], int]
_COMMANDS: dict[str, Handler] = {}


def command(name: str) -> Callable[[Handler], Handler]:
    """Register the handler of ``python -m smartlens <name>`` (``guide.import`` for sub-commands)."""

    def register(fn: Handler) -> Handler:
        _COMMANDS[name] = fn
        return fn

    return register


# --- guides ---------------------------------------------------------------------------------
@command("guide.import")
def _guide_import(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import guide_dir, save_guide
    from .guide.formats.coco import import_coco
    from .guide.formats.paintings import import_paintings
    from .storage import check_id

    name = check_id(args.name, "guide name")
    src = Path(args.src)
    if src.suffix == ".json" and src.name != "artworks.json":
        if not args.images:
            raise UserError(
                "importing a COCO file needs --images DIR (the folder its file_name values are relative to)"
            )
        imp = import_coco(src, Path(args.images), name, args.language, settings.image_limits)
    else:
        imp = import_paintings(src, name, args.language, settings.image_limits)
    ref = save_guide(
        imp.guide,
        guide_dir(name, settings),
        files=imp.files,
        replace=args.force,
        limits=settings.image_limits,
        backup=True,
    )
    n_details = sum(len(a.details) for a in ref.guide.artworks)
    print(
        f"imported guide '{name}': {len(ref.guide.artworks)} artworks, {n_details} details, "
        f"languages {', '.join(ref.guide.languages)} -> {ref.root}"
    )
    return 0


@command("guide.export")
def _guide_export(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import load_guide
    from .guide.formats.coco import export_coco

    out = export_coco(load_guide(args.guide, settings), Path(args.out), copy_media=not args.no_media)
    print(f"wrote {out}")
    return 0


@command("guide.check")
def _guide_check(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import load_guide

    ref = load_guide(args.guide, settings)
    print(
        f"guide '{ref.guide.name}' is valid: {len(ref.guide.artworks)} artworks, "
        f"{sum(len(a.details) for a in ref.guide.artworks)} details, languages {', '.join(ref.guide.languages)}"
    )
    return 0


@command("guide.backups")
def _guide_backups(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import guide_dir
    from .guide.store import backups_dir, list_backups

    root = guide_dir(args.guide, settings)
    names = list_backups(root)
    if not names:
        print(f"no backups of guide '{root.name}' yet (an import with --force keeps one)")
    for name in names:
        print(f"{name}  {backups_dir(root) / name}")
    return 0


@command("guide.restore")
def _guide_restore(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import guide_dir
    from .guide.store import restore_guide

    ref = restore_guide(guide_dir(args.guide, settings), args.backup, settings.image_limits)
    print(
        f"restored guide '{ref.root.name}' from backup {args.backup or '(newest)'}: "
        f"{len(ref.guide.artworks)} artworks; the guide it replaced is now the newest backup"
    )
    return 0


@command("guide.list")
def _guide_list(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import list_guides

    for name in list_guides(settings):
        print(name)
    return 0


@command("demo")
def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from .guide.demo import ensure_demo

    ref = ensure_demo(settings, force=args.force)
    print(f"demo guide ready: {len(ref.guide.artworks)} artworks at {ref.root}")
    return 0


@command("info")
def _info(args: argparse.Namespace, settings: Settings) -> int:
    from .info import collect_info

    info = collect_info(settings)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            print(f"{key:>18}: {value}")
    return 0


# --- recognition --------------------------------------------------------------------------
def _progress_printer(label: str) -> Progress:
    """A progress callback that redraws one console line (stderr)."""
    last = [-1]

    def show(event: ProgressEvent) -> None:
        pct = int(event.fraction * 100)
        if pct != last[0]:
            last[0] = pct
            end = "\n" if event.fraction >= 1 else ""
            extra = " ".join(f"{k}={v}" for k, v in event.metrics.items() if k not in ("done", "total"))
            message = f"{event.message} {extra}".strip()
            print(f"\r{label}: {pct:3d}% {message[:70]:<70}", end=end, file=sys.stderr, flush=True)

    return show


@command("index")
def _index(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import load_guide
    from .recognition.retrieval import load_retrieval

    rec = load_retrieval(
        load_guide(args.guide, settings),
        settings,
        args.mode,
        rebuild=args.rebuild,
        progress=_progress_printer(f"index ({args.mode})"),
    )
    i = rec.info
    print(
        f"{'built' if i.built else 'up to date'}: {i.mode} index of {i.artworks} artworks, "
        f"{i.entries} entries, {i.nbytes / 2**20:.1f} MiB, {i.seconds:.1f} s -> {i.path}"
    )
    if i.report:
        print("calibration: " + ", ".join(f"{k}={v}" for k, v in i.report.items()))
    return 0


@command("recognize")
def _recognize(args: argparse.Namespace, settings: Settings) -> int:
    from .errors import ImageError
    from .guide import load_guide
    from .imaging import read_image
    from .recognition import load_recognizer

    rec = load_recognizer(
        load_guide(args.guide, settings),
        settings,
        args.method,
        args.mode,
        model=args.model,
        progress=_progress_printer("loading"),
    )
    status = 0
    for path in args.images:
        try:
            result = rec.recognize(read_image(path, settings.image_limits))
        except ImageError as exc:
            print(json.dumps({"image": path, "error": str(exc)}) if args.json else f"{path}: error: {exc}")
            status = 1
            continue
        if args.json:
            print(json.dumps(result.to_json(path)), flush=True)
        else:
            details = ", ".join(f"{d.id} ({d.score:.2f})" for d in result.details) or "-"
            print(
                f"{path}: {result.artwork or 'nothing'} (score {result.score:.2f}; details: {details}; "
                f"{result.ms:.0f} ms)"
            )
    return status


@command("augment")
def _augment(args: argparse.Namespace, settings: Settings) -> int:
    from .augment.engine import AugmentParams, generate
    from .guide import load_guide

    if args.for_training:
        return _training_views(args, settings)
    if not args.out:
        raise UserError("augment needs --out DIR (or --for-training, for the views training reads)")
    params = AugmentParams(
        per_image=20 if args.per_image is None else args.per_image,
        preset=args.preset,
        negatives=args.negatives or 0,
        seed=args.seed,
        blocks=tuple(args.transforms.split(",")) if args.transforms else None,
        max_side=args.max_side,
    )
    r = generate(
        load_guide(args.guide, settings),
        Path(args.out),
        params,
        workers=args.workers,
        force=args.force,
        progress=_progress_printer("augment"),
    )
    print(
        f"{r.total} samples in {r.out} ({r.made} made now, {r.skipped} already there) in {r.seconds:.1f} s: "
        f"{r.per_second:.1f} images/s on {r.workers} worker(s)"
    )
    return 0


def _training_views(args: argparse.Namespace, settings: Settings) -> int:
    """``augment --for-training``: make (or reuse) exactly the views ``train`` reads."""
    from dataclasses import replace

    from .guide import load_guide
    from .training.classification import TrainParams
    from .training.views import training_views

    params = replace(
        TrainParams(seed=args.seed, workers=args.workers, preset=args.preset),
        negative_dirs=tuple(Path(d) for d in args.negatives_dir or ()),
        **({} if args.per_image is None else {"per_image": args.per_image}),
        **({} if args.negatives is None else {"negatives": args.negatives}),
    )
    views = training_views(
        load_guide(args.guide, settings), settings, params, progress=_progress_printer("augment")
    )
    print(f"training views: {views.train}")
    print(f"held-out views: {views.held_out}")
    print(
        f"made in {views.seconds:.1f} s, {views.negative_pictures} real negative picture(s); "
        f"'train --guide {args.guide}' with the same --per-image/--negatives/--seed reads them"
    )
    return 0


@command("train")
def _train(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import load_guide

    common = {
        "epochs": args.epochs,
        "size": args.size,
        "budget_minutes": args.budget_minutes,
        "per_image": args.per_image,
        "negatives": args.negatives,
        "seed": args.seed,
        "workers": args.workers,
        "negative_dirs": tuple(Path(d) for d in args.negatives_dir or ()),
    }
    ref, progress = load_guide(args.guide, settings), _progress_printer("train")
    if args.method == Method.DETECTION:
        from .training.detection import DetectorParams, train_detector

        result = train_detector(ref, settings, DetectorParams(**common), progress=progress)
        m = result.metrics
        figures = (
            f"held-out mAP@0.5 {m['map50']}%, recall {m['recall']}%, precision {m['precision']}%, "
            f"negatives with a box {m['negatives_fp']}%"
        )
    else:
        from .training.classification import TrainParams, train_classifier

        params = TrainParams(**common, frozen_features=args.frozen_features)
        result = train_classifier(ref, settings, params, progress=progress)  # type: ignore[assignment]
        m = result.metrics
        figures = f"held-out top-1 {m['top1']}%, negatives accepted {m['negatives_fp']}%"
    stopped = " (stopped by the budget)" if result.stopped_early else ""
    print(f"saved {result.model_dir} in {result.seconds / 60:.1f} min{stopped}: {figures}")
    return 0


@command("gate")
def _gate(args: argparse.Namespace, settings: Settings) -> int:
    """(Re)build a trained model's open-set gate from the views it was trained on."""
    from .guide import load_guide
    from .model_store import latest_model
    from .training.open_set import add_gate, model_views

    ref, progress = load_guide(args.guide, settings), _progress_printer("gate")
    model = Path(args.model) if args.model else latest_model(ref.guide.name, args.method, settings)
    train, held = model_views(model, ref, settings, progress)
    report = add_gate(model, ref, settings, train, held, progress)
    if not report.get("available"):
        print(f"{model.name}: no open-set gate: {report['why']}")
        return 1
    print(
        f"{model.name}: open-set gate saved (threshold {report['threshold']}); on its held-out views it "
        f"keeps {100 * (report['held_out_right_kept'] or 0):.1f}% of the right answers and lets through "
        f"{report['held_out_negatives_named_after_gate']} of the "
        f"{report['held_out_negatives_named']} negatives the model named"
    )
    return 0


# --- detection: annotate (H10A) -----------------------------------------------------------------
@command("annotate")
def _annotate(args: argparse.Namespace, settings: Settings) -> int:
    from .guide import load_guide
    from .guide.proposals import propose_from_detector, propose_from_retrieval

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


# --- /detection -------------------------------------------------------------------------------


def _streamlit(
    app: str, args: argparse.Namespace, settings: Settings, app_args: list[str], address: str | None = None
) -> int:
    """Print where the app answers, then become its Streamlit server (stopping us stops it)."""
    from .serve import exec_command, streamlit_command, tls_files
    from .tls import lan_addresses

    address = address or args.address
    cert = key = None
    if args.https:
        cert, key, made = tls_files(settings, args.cert_dir)
        if made:
            print(f"made a self-signed certificate in {cert.parent} (each phone or browser accepts it once)")
    hosts = [a for a in lan_addresses() if a != "127.0.0.1"] if address in ("0.0.0.0", "::") else [address]
    name = app.split("/")[0].removesuffix(".py")
    for host in hosts or ["localhost"]:
        print(f"SmartLens {name}: {'https' if cert else 'http'}://{host}:{args.port}/")
    if name == "lens":  # the studio's QR codes carry where it really answers
        from .lens.address import LensAddress, record_lens_address

        record_lens_address(
            settings, LensAddress("https" if cert else "http", hosts or ["localhost"], args.port)
        )
    return exec_command(streamlit_command(app, args.port, address, app_args, cert, key))


@command("lens")
def _lens(args: argparse.Namespace, settings: Settings) -> int:
    from .lens.runtime import load_runtime

    # builds the index now, not on the first visit
    rt = load_runtime(args.guide, settings, args.method, args.mode)
    print(f"guide '{rt.ref.guide.name}': {len(rt.ref.guide.artworks)} artworks, method {rt.method}")
    # no --method: the app follows what the studio publishes, picked up for each new visitor
    app_args = ["--guide", args.guide]
    app_args += (["--method", args.method] if args.method else []) + (
        ["--mode", args.mode] if args.mode else []
    )
    return _streamlit("lens.py", args, settings, app_args)


# --- studio and jobs (H11) -------------------------------------------------------------------
@command("studio")
def _studio(args: argparse.Namespace, settings: Settings) -> int:
    from .access import studio_address

    # refused before anything starts when the studio would be open to others without a password
    address = studio_address(args.address, settings.studio_password)
    if not settings.studio_password:
        print(
            "no studio password set: listening on this machine only (set SMARTLENS_STUDIO_PASSWORD to open it)"
        )
    return _streamlit("studio/app.py", args, settings, ["--guide", args.guide], address)


@command("job.run")
def _job_run(args: argparse.Namespace, settings: Settings) -> int:
    import fcntl

    from .jobs.manager import JobBusyError, lock_path
    from .jobs.record import read_spec
    from .jobs.runner import run_job

    if args.lock_fd is None:  # started by hand: take the job's lock here
        spec = read_spec(Path(args.dir))
        if spec is None:
            raise UserError(f"{args.dir}: not a job folder (no spec.json)")
        lock = lock_path(settings, spec.kind, spec.guide)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = lock.open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusyError(f"a {spec.kind} job is already running on guide '{spec.guide}'") from None
    return run_job(Path(args.dir), settings)


@command("job.start")
def _job_start(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs import JobSpec, start_job

    params: dict[str, object] = {}
    for item in args.param or []:
        name, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--param {item!r}: expected NAME=VALUE")
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    job = start_job(JobSpec(args.kind, args.guide, params), settings)
    print(f"started job {job.id} -> {job.dir}")
    return 0


@command("job.list")
def _job_list(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs import list_jobs

    for job in list_jobs(settings, args.guide):
        metrics = " ".join(
            f"{k}={v}" for k, v in job.status.metrics.items() if not isinstance(v, (dict, list))
        )
        print(
            f"{job.id}  {job.state:<9} {job.spec.guide}  {job.status.fraction:4.0%}  {job.status.message}  {metrics}"
        )
    return 0


@command("job.cancel")
def _job_cancel(args: argparse.Namespace, settings: Settings) -> int:
    from .jobs import cancel_job

    job = cancel_job(args.id, settings, args.grace)
    print(f"job {job.id}: {job.state}")
    return 0


# --- /studio and jobs ------------------------------------------------------------------------


# --- visitor analytics: stats, events (H12) ----------------------------------------------------
def _stats_filters(args: argparse.Namespace):
    from datetime import date

    from .analytics.stats import Filters

    def day(text: str | None, flag: str) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise UserError(f"--{flag}: {text!r} is not a date (YYYY-MM-DD)") from None

    return Filters(args.guide, day(args.since, "since"), day(args.until, "until"))


@command("stats")
def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from .analytics.stats import figures, render

    print(render(figures(settings.events_dir, _stats_filters(args)), args.format))
    return 0


def _retention_days(args: argparse.Namespace, settings: Settings) -> int:
    return settings.event_retention_days if args.retention_days is None else args.retention_days


@command("events.compact")
def _events_compact(args: argparse.Namespace, settings: Settings) -> int:
    from .analytics.store import compact

    days = _retention_days(args, settings)
    r = compact(settings.events_dir, days)
    if r.busy:
        print("another compaction is running; nothing done")
    else:
        print(
            f"merged {r.merged} file(s) into {r.output.name if r.output else 'nothing'}: {r.events} events kept, "
            f"{r.pruned} older than {days} days deleted, {r.removed} file(s) removed ({r.seconds:.2f} s)"
        )
    return 0


@command("events.prune")
def _events_prune(args: argparse.Namespace, settings: Settings) -> int:
    from .analytics.store import compact

    days = _retention_days(args, settings)
    if days <= 0:
        raise UserError("retention is off (event_retention_days = 0): give --retention-days N")
    r = compact(settings.events_dir, days, min_files=1)
    print(
        "another compaction is running; nothing done"
        if r.busy
        else f"{r.pruned} events older than {days} days deleted"
    )
    return 0


@command("events.status")
def _events_status(args: argparse.Namespace, settings: Settings) -> int:
    from .analytics.store import health

    h = health(settings.events_dir)
    state = "writable" if h.writable else "NOT writable"
    print(f"{h.folder}: {h.files} file(s), {h.bytes / 1e6:.1f} MB, {state}")
    for w in h.writers:
        print(
            f"  writer {w['writer']} ({'live' if w['live'] else 'gone'}): written {w['written']}, "
            f"dropped {w['dropped']}, failed {w['failed']}"
            + (f", error: {w['error']}" if w.get("error") else "")
        )
    if h.problem:
        print(f"problem: {h.problem}")
    return 1 if h.problem else 0


# --- /visitor analytics -------------------------------------------------------------------------


@command("qr")
def _qr(args: argparse.Namespace, settings: Settings) -> int:
    from .qr import write_qr

    print(f"wrote {write_qr(args.url, Path(args.out), args.scale)}")
    return 0


@command("cert")
def _cert(args: argparse.Namespace, settings: Settings) -> int:
    from .tls import make_certificate

    cert, key = make_certificate(Path(args.out), args.name or None)
    print(
        f"wrote {cert} and {key}\nstart the lens with: python -m smartlens lens --https --cert-dir {args.out}"
    )
    return 0


@command("bench")
def _bench(args: argparse.Namespace, settings: Settings) -> int:
    import importlib

    return int(importlib.import_module(f".bench.{args.name}", __package__).main(args, settings))


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser (choices come from :mod:`smartlens.vocabulary`)."""
    p = argparse.ArgumentParser(prog="smartlens", description=__doc__)
    p.add_argument("-v", "--verbose", action="store_true", help="more log output")
    sub = p.add_subparsers(dest="cmd", required=True)

    g = sub.add_parser("guide", help="import, export, check and list guides").add_subparsers(
        dest="sub", required=True
    )
    gi = g.add_parser("import", help="import artworks.json (folder) or COCO JSON (with --images)")
    gi.add_argument("src", help="folder holding artworks.json, or a COCO .json file")
    gi.add_argument("--name", required=True, help="guide name (folder under data/guides/)")
    gi.add_argument("--images", help="COCO only: folder the file_name values are relative to")
    gi.add_argument("--language", default="en", help="language of plain-string texts and default language")
    gi.add_argument(
        "--force", action="store_true", help="replace an existing guide of that name (kept as a backup)"
    )
    ge = g.add_parser("export", help="export a guide as COCO JSON (with its images beside it)")
    ge.add_argument("--guide", required=True)
    ge.add_argument("--out", required=True, help="output .json path")
    ge.add_argument("--no-media", action="store_true", help="write the JSON only")
    gc = g.add_parser("check", help="validate a guide")
    gc.add_argument("--guide", required=True)
    g.add_parser("list", help="list the guides under data/guides/")
    gb = g.add_parser("backups", help="list the backups of a guide (kept when an import replaces it)")
    gb.add_argument("--guide", required=True)
    gr = g.add_parser("restore", help="bring back a backup of a guide (the newest by default)")
    gr.add_argument("--guide", required=True)
    gr.add_argument("--backup", help="backup name, as 'guide backups' lists them (default: the newest)")

    d = sub.add_parser("demo", help="create the built-in demo guide")
    d.add_argument("--force", action="store_true", help="re-create it")
    i = sub.add_parser("info", help="versions, settings and which weights are used")
    i.add_argument("--json", action="store_true")

    ix = sub.add_parser("index", help="build (or check) a guide's retrieval index")
    ix.add_argument("--guide", required=True)
    ix.add_argument("--mode", default=RetrievalMode.VERIFIED, choices=choices(RetrievalMode))
    ix.add_argument("--rebuild", action="store_true", help="rebuild even if up to date")

    r = sub.add_parser("recognize", help="recognise artworks and details in image files")
    r.add_argument("--guide", required=True)
    r.add_argument("--method", default=Method.RETRIEVAL, choices=choices(Method))
    r.add_argument("--mode", choices=choices(RetrievalMode), help="retrieval: verified (default) or baseline")
    r.add_argument("--model", help="classification/detection: a model folder (default: newest for the guide)")
    r.add_argument("--json", action="store_true", help="one JSON line per image")
    r.add_argument("images", nargs="+")

    au = sub.add_parser("augment", help="generate augmented training views of a guide's artworks and details")
    au.add_argument("--guide", required=True)
    au.add_argument(
        "--per-image",
        type=int,
        help="views per artwork, and close-ups per detail (default 20; 80 for training)",
    )
    au.add_argument("--preset", default=Preset.MEDIUM, choices=choices(Preset))
    au.add_argument("--transforms", help=f"custom comma separated blocks ({', '.join(BLOCKS)})")
    au.add_argument(
        "--negatives", type=int, help="also this many frames with no artwork (default 0; 400 for training)"
    )
    au.add_argument("--out", help="output folder (not with --for-training)")
    au.add_argument(
        "--for-training",
        action="store_true",
        help="make (or reuse) the views 'train' reads, in its cache, and print where they are",
    )
    au.add_argument("--negatives-dir", action="append", help="--for-training: as for train (repeatable)")
    au.add_argument("--workers", type=int, help="processes (default: all cores)")
    au.add_argument("--seed", type=int, default=0)
    au.add_argument("--max-side", type=int, default=640)
    au.add_argument("--force", action="store_true", help="start over in an --out holding another run")

    t = sub.add_parser("train", help="train a recogniser on a guide (runs on the CPU)")
    t.add_argument("--guide", required=True)
    t.add_argument("--method", default=Method.CLASSIFICATION, choices=choices(Method)[1:])
    t.add_argument("--epochs", type=int, default=30)
    t.add_argument("--size", default=BackboneSize.SMALL, choices=choices(BackboneSize))
    t.add_argument("--budget-minutes", type=float, help="stop in time, keeping the best model so far")
    t.add_argument("--per-image", type=int, default=80, help="training views per artwork and per detail")
    t.add_argument("--negatives", type=int, default=400, help="frames with no artwork (reject class)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--workers", type=int, help="augmentation processes (default: all cores)")
    t.add_argument(
        "--negatives-dir",
        action="append",
        help="a folder of real pictures with no guide artwork (other works, rooms), besides the "
        "guide's negatives/ folder (repeatable)",
    )
    t.add_argument(
        "--frozen-features",
        action="store_true",
        help="classification with a TFLite extractor: train a head on its frozen features instead of fine-tuning",
    )

    ga = sub.add_parser(
        "gate", help="(re)build a trained model's open-set gate, which refuses paintings not in the guide"
    )
    ga.add_argument("--guide", required=True)
    ga.add_argument("--method", default=Method.CLASSIFICATION, choices=choices(Method)[1:])
    ga.add_argument("--model", help="a model folder (default: the newest of the method for the guide)")

    # --- annotate (H10A) ---
    an = sub.add_parser(
        "annotate", help="propose detail boxes on a guide's artwork images (marked automatic)"
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
    # --- /annotate ---

    for name, helptext in (
        ("lens", "start the visitors' lens (Streamlit + WebRTC)"),
        ("studio", "start the curators' studio"),
    ):
        a = sub.add_parser(name, help=helptext)
        a.add_argument("--guide", default="demo")
        if name == "lens":
            a.add_argument(
                "--method",
                choices=choices(Method),
                help="default: what the studio published for the guide, else retrieval",
            )
            a.add_argument(
                "--mode", choices=choices(RetrievalMode), help="retrieval: verified (default) or baseline"
            )
        a.add_argument("--port", type=int, default=8501 if name == "lens" else 8502)
        a.add_argument(
            "--address",
            default="0.0.0.0" if name == "lens" else None,
            help="0.0.0.0: reachable from phones on the LAN"
            if name == "lens"
            else "default: the LAN with a studio password, else this machine only",
        )
        a.add_argument(
            "--https", action="store_true", help="serve over HTTPS (phones need it for the camera)"
        )
        a.add_argument(
            "--cert-dir", help="folder with cert.pem and key.pem (default data/tls, made if missing)"
        )
    # --- studio and jobs (H11) ---
    sub.choices["studio"].set_defaults(address=None)  # LAN with a password, else this machine only
    jb = sub.add_parser("job", help="long work as processes: start, list, cancel").add_subparsers(
        dest="sub", required=True
    )
    jr = jb.add_parser("run", help="run a job folder's work in this process (the studio starts these)")
    jr.add_argument("--dir", required=True, help="the job folder (data/jobs/<id>)")
    jr.add_argument("--lock-fd", type=int, help="the job's lock, already held (passed by the starter)")
    js = jb.add_parser("start", help="start a job in the background")
    js.add_argument("kind", choices=["views", "index", "train"])
    js.add_argument("--guide", required=True)
    js.add_argument("--param", action="append", help="NAME=VALUE (JSON values), e.g. budget_minutes=1")
    jl = jb.add_parser("list", help="list jobs, newest first")
    jl.add_argument("--guide")
    jc = jb.add_parser("cancel", help="stop a running job (SIGTERM, then SIGKILL)")
    jc.add_argument("id")
    jc.add_argument("--grace", type=float, default=10.0, help="seconds between SIGTERM and SIGKILL")
    # --- /studio and jobs ---
    # --- visitor analytics (H12) ---
    st = sub.add_parser("stats", help="visitor statistics: what was looked at, when, how (from data/events)")
    st.add_argument("--guide", help="one guide only")
    st.add_argument("--since", help="first day, YYYY-MM-DD (local time)")
    st.add_argument("--until", help="last day, YYYY-MM-DD (inclusive)")
    st.add_argument("--format", choices=["table", "csv", "json"], default="table")
    ev = sub.add_parser("events", help="the visitor-event store: compact, prune, status").add_subparsers(
        dest="sub", required=True
    )
    for name, helptext in (
        ("compact", "merge small segment files (and apply the retention setting)"),
        ("prune", "delete events older than the retention setting"),
    ):
        ev.add_parser(name, help=helptext).add_argument(
            "--retention-days", type=int, help="override event_retention_days (0 keeps everything)"
        )
    ev.add_parser("status", help="files, size, whether it can be written, each lens writer's counts")
    # --- /visitor analytics ---
    q = sub.add_parser("qr", help="a QR code of the lens URL, to print next to the artworks")
    q.add_argument("url")
    q.add_argument("--out", default="lens-qr.png", help=".png or .svg")
    q.add_argument("--scale", type=int, default=10)
    c = sub.add_parser("cert", help="make a self-signed certificate for HTTPS on the LAN")
    c.add_argument("--out", default="data/tls")
    c.add_argument(
        "--name", action="append", help="host name or IP to include (repeatable; default: this machine's)"
    )

    b = sub.add_parser("bench", help="benchmarks: " + ", ".join(BENCHMARKS))
    b.add_argument("name", choices=BENCHMARKS)
    b.add_argument(
        "--paintings", help="recognition: folder with artworks.json (default ../shared/data/paintings)"
    )
    b.add_argument(
        "--methods",
        default="retrieval/verified,retrieval/baseline,classification",
        help="recognition: comma separated methods[/mode]",
    )
    b.add_argument(
        "--weights",
        default="setting",
        help="recognition: weights to try for weight-dependent methods, comma separated: "
        "'setting' (SMARTLENS_WEIGHTS), 'none', or a path",
    )
    b.add_argument("--views", type=int, default=10, help="recognition: whole views per artwork")
    b.add_argument("--detail-views", type=int, default=3, help="recognition: close-ups per detail")
    b.add_argument("--negatives", type=int, default=100)
    b.add_argument(
        "--guide-split",
        type=int,
        help="recognition: the first N paintings form the guide, the next one is its curator negative, "
        "the rest are held-out negatives (never trained or calibrated on)",
    )
    b.add_argument(
        "--train-minutes", type=float, help="recognition: train each learned method within this budget first"
    )
    b.add_argument("--scale", default="", help="recognition: grown guide sizes, e.g. 100,1000")
    b.add_argument("--scale-methods", default="retrieval/verified")
    b.add_argument("--samples", help="recognition: write a contact sheet of test views here (PNG)")
    b.add_argument("--show-failures", action="store_true")
    b.add_argument("--repeat", type=int, default=30, help="backbone: calls per measurement")
    b.add_argument("--per-image", type=int, default=20, help="augment: images per source image")
    b.add_argument("--visitors", default="1,3", help="lens: simultaneous browser visitors, comma separated")
    b.add_argument("--seconds", type=float, default=20.0, help="lens: how long each visitor watches")
    # --- bench load (H9B) ---
    b.add_argument("--parts", default="stages,inprocess,webrtc", help="load: stages,inprocess,webrtc")
    b.add_argument("--load-visitors", default="10", help="load: in-process visitors, comma separated")
    b.add_argument("--peers", default="3", help="load: simulated WebRTC phones, comma separated")
    b.add_argument("--fps", type=float, default=10.0, help="load: each visitor's camera frame rate")
    # --- end bench load ---
    b.add_argument("--frames", type=int, default=90, help="tracking: frames of the camera path (and --fps)")
    # --- bench events (H12) ---
    b.add_argument("--events", default="1000000,10000000", help="events: synthetic store sizes (comma sep.)")
    b.add_argument("--write-seconds", type=float, default=5.0, help="events: how long the writer test runs")
    # --- end bench events ---
    b.add_argument("--json", help="write the figures as JSON here")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run one command; the only place besides the apps that reads the environment."""
    # TensorFlow's C++ start-up chatter hides the messages people need; users can still raise it
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = build_parser().parse_args(argv)
    keep_freed_memory()  # before the first frame: per-frame buffers then stay mapped (see allocator)
    single_threaded_blas()  # no idle BLAS thread spinning on a core between frames (see blas_threads)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    key = f"{args.cmd}.{args.sub}" if getattr(args, "sub", None) else args.cmd
    try:
        return _COMMANDS[key](args, load_settings())
    except USER_ERRORS as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
