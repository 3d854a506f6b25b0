"""``python -m smartlens bench recognition``: every method on camera views of the shared paintings.

Two levels of difficulty, each reported apart and side by side (``--levels easy,hard``): easy
(one painting filling the frame over a plain wall) and hard (museum views: small in the frame,
among other paintings, ornate walls and frames, steep angles, visitors, glass, dim light); see
:mod:`smartlens.bench.views`. ``--set test`` (the default) is what is reported; ``--set dev``
draws other views of other paintings (the shared ones mirrored), for tuning.

Reports per method, mode and level, in one table: artwork top-1, class top-1 (artwork or detail, as a
classifier sees it), detail precision and recall (a box must overlap the truth at IoU 0.5),
negatives given an artwork (all; held-out real paintings; procedural walls, rooms, pictures),
median and p95 ms per frame, build (or training) time and index size; then retrieval with the
guide grown to larger sizes.

``--guide-split N`` evaluates as the world will: the first N paintings form the guide, the next
one is the curator's negative picture (in the guide's ``negatives/`` folder: learned methods
train and calibrate on it), and the rest are held out (never trained or calibrated on) and shown
as negatives; the first of them is also the curator's check negative (``negatives/check/``), shown
only by a model's own report views. ``--train-minutes M`` trains each learned method (per weights) within M minutes
first (``classification=20,detection=30``: a budget per method), then prints each model's own
report-set figures (``metrics.json``) beside the benchmark's; without it the newest model of the
guide is used.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import time
from pathlib import Path

from ..config import Settings
from ..errors import USER_ERRORS, UserError
from ..methods import method_spec
from ..progress import no_progress
from ..storage import atomic_write_json
from ..synth.camera import VIEW_MIX, View
from ..training.model_folder import REPORT, read_metrics
from ..training.report import report_line
from .scoring import evaluate
from .timing import summary, table, yardstick_extractor
from .views import (
    LEVELS,
    LevelViews,
    bench_guide,
    describe,
    grown_guide,
    level_views,
    paintings_dir,
    save_samples,
    split_guide,
)

#: The accuracy figures of a row, the benchmark's and a model's own report alike.
FIGURES = [
    "artwork_top1",
    "class_top1",
    "detail_precision",
    "detail_recall",
    "negatives_fp",
    "fp_held_out_paintings",
]
COLUMNS = [
    "method",
    "weights",
    "level",
    *FIGURES,
    "fp_other_negatives",
    "median_ms",
    "p95_ms",
    "yardstick_median_ms",
    "yardstick_p95_ms",
    "p95_vs_yardstick",
    "build_s",
    "index_mb",
]
#: The figures :func:`side_by_side` shows per level (key -> short name).
SIDE_BY_SIDE = {
    "artwork_top1": "top-1",
    "detail_recall": "detail R",
    "negatives_fp": "neg FP",
    "p95_vs_yardstick": "p95/yard",
}
#: A trained model's report-set figures (metrics.json), beside the benchmark's rows.
REPORT_COLUMNS = ["method", "weights", "level", "views", "check_photos", "negatives", *FIGURES, "p95_ms"]
#: Columns of retrieval as the guide grows.
SCALE_COLUMNS = [
    "method",
    "artworks",
    "level",
    "artwork_top1",
    "detail_precision",
    "detail_recall",
    "negatives_fp",
    "median_ms",
    "p95_ms",
    "build_s",
    "index_mb",
    "rss_growth_mb",
]


def rss_mb() -> float:
    """Resident memory of this process (Linux), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _weights_label(settings) -> str:
    return "none" if settings.weights is None else Path(settings.weights).name


def make_recognizer(method: str, ref, settings, rebuild: bool = True, model: Path | None = None):
    """A recogniser for ``method`` ('retrieval/verified', 'retrieval/baseline', 'classification', ...)."""
    from ..methods import load_recognizer

    name, _, mode = method.partition("/")
    if model is not None:
        return load_recognizer(ref, settings, name, mode or None, model=str(model))
    return load_recognizer(ref, settings, name, mode or None, rebuild=rebuild)


def verified_with(params: dict, ref, settings):
    """Verified retrieval with some parameters changed (``--verified-params``), to compare."""
    from ..methods.retrieval.verified import GeometricParams, VerifiedRetrieval

    return VerifiedRetrieval(ref, settings, GeometricParams(**params), rebuild=True)


def train_method(method: str, ref, settings: Settings, minutes: float, log=print) -> tuple[Path, float]:
    """Train ``method`` on ``ref`` within ``minutes`` (views included) with its default parameters;
    (model folder, seconds)."""
    from ..methods import training_of

    training = training_of(method)
    result = training.train(ref, settings, training.params(budget_minutes=minutes), no_progress)
    log(f"{method} [{_weights_label(settings)}]: trained {result.model_dir} in {result.seconds / 60:.1f} min")
    return result.model_dir, result.seconds


def train_budgets(text: str | None) -> dict[str, float]:
    """``--train-minutes`` read: ``20`` (every learned method) or ``classification=20,detection=30``."""
    if not text:
        return {}
    budgets: dict[str, float] = {}
    try:
        for part in text.split(","):
            name, sep, value = part.rpartition("=")
            minutes = float(value)
            if minutes <= 0:
                raise ValueError("a budget must be more than 0 minutes")
            budgets[name.strip() if sep else "*"] = minutes
    except ValueError as exc:
        raise UserError(
            f"--train-minutes {text!r}: give minutes (20) or minutes per method (classification=20,detection=30): {exc}"
        ) from None
    return budgets


def _budget(budgets: dict[str, float], method: str) -> float | None:
    return budgets.get(method.partition("/")[0], budgets.get("*"))


def run(
    base_settings: Settings,
    paintings: Path | None = None,
    methods: tuple[str, ...] = ("retrieval/verified", "retrieval/baseline"),
    weights: tuple[str, ...] = ("setting",),
    whole: int = VIEW_MIX[0],
    per_detail: int = VIEW_MIX[1],
    negatives: int = 100,
    scale: tuple[int, ...] = (),
    scale_methods: tuple[str, ...] = ("retrieval/verified",),
    samples: Path | None = None,
    guide_split: int | None = None,
    train_minutes: dict[str, float] | None = None,
    levels: tuple[str, ...] = LEVELS,
    bench_set: str = "test",
    verified_params: dict | None = None,
    log=print,
) -> dict:
    """Every method on every level (views of ``bench_set``), each level's yardstick beside it."""
    src = paintings or paintings_dir(base_settings)
    split = None
    if guide_split:
        split = split_guide(src, base_settings, guide_split, bench_set=bench_set)
        ref = split.ref
        log(
            f"guide split: guide {[a.id for a in ref.guide.artworks]}; curator negatives (trained and "
            f"calibrated on) {split.training_negatives}; held-out negatives {split.held_out} (never trained "
            f"or calibrated on; {split.check_negatives} also the curator's check negative: other views of "
            "it in a model's own report)"
        )
    else:
        ref = bench_guide(src, base_settings, bench_set)
    material: list[LevelViews] = []
    for level in levels:
        t0 = time.perf_counter()
        lv = level_views(level, ref, whole, per_detail, negatives, bench_set, split)
        material.append(lv)
        log(
            f"{level} level ({bench_set} set): {describe(lv.views)} + {describe(lv.negatives)} negatives, rendered "
            f"in {time.perf_counter() - t0:.0f} s (guide {ref.guide.name}: {len(ref.guide.artworks)} artworks, "
            f"{sum(len(a.details) for a in ref.guide.artworks)} details)"
        )
        if samples:
            out = samples.with_name(f"{samples.stem}-{level}{samples.suffix or '.png'}")
            save_samples(lv.views + lv.negatives[:8], out)
            log(f"sample views: {out}")
    rulers = {lv.level: yardstick(lv.views) for lv in material}
    for level, ruler in rulers.items():
        log(
            f"yardstick, {level} level (plain SIFT extraction of the same views, as frames are described): "
            f"median {ruler['median_ms']} ms, p95 {ruler['p95_ms']} ms"
        )
    rows, failures = [], {}
    reports: list[dict] = []
    weight_settings = []
    for w in weights:
        if w == "setting":
            weight_settings.append(base_settings)
        else:
            weight_settings.append(
                dataclasses.replace(base_settings, weights=None if w == "none" else Path(w))
            )

    def score_levels(rec, method: str, label: str, build_s: float) -> None:
        info = getattr(rec, "info", None)
        for lv in material:
            # the yardstick again, frame by frame beside the method: the same machine speed for both
            score = evaluate(rec.recognize, lv.views, lv.negatives, ruler=yardstick_extractor().extract)
            row = {
                "method": method,
                "weights": label,
                "level": lv.level,
                **score.metrics(),
                "build_s": round(getattr(info, "seconds", build_s), 1),
                "index_mb": round(info.nbytes / 2**20, 1) if info and getattr(info, "nbytes", None) else "",
            }
            rows.append(row)
            failures[f"{method} [{label}] {lv.level}"] = score.failures[:40]
            log(table([row], COLUMNS).splitlines()[-1])

    for method in methods:
        needs_weights = method_spec(method).needs_weights(method.partition("/")[2] or None)
        for settings in weight_settings if needs_weights else weight_settings[:1]:
            label = _weights_label(settings) if needs_weights else "(none needed)"
            try:
                t1 = time.perf_counter()
                model = None
                budget = _budget(train_minutes or {}, method)
                if budget and method_spec(method).training is not None:
                    model, _ = train_method(method.partition("/")[0], ref, settings, budget, log)
                    report = read_metrics(model).get(REPORT) or {}
                    log(f"{method} [{label}], its own {report_line(report)}")
                    reports += report_rows(method, label, report, model)
                rec = make_recognizer(method, ref, settings, model=model)
                build_s = time.perf_counter() - t1
            except USER_ERRORS as exc:
                log(f"{method} [{label}]: unavailable ({exc})")
                continue
            score_levels(rec, method, label, build_s)
    if verified_params:
        t1 = time.perf_counter()
        rec = verified_with(verified_params, ref, base_settings)
        score_levels(
            rec,
            f"retrieval/verified {json.dumps(verified_params)}",
            "(none needed)",
            time.perf_counter() - t1,
        )
    scale_rows = []
    base = material[0]
    for size in scale:
        grown = grown_guide(ref, size, base_settings)
        for method in scale_methods:
            gc.collect()
            before = rss_mb()
            t1 = time.perf_counter()
            rec = make_recognizer(method, grown, weight_settings[-1])
            build_s = time.perf_counter() - t1
            loaded = rss_mb()
            # the yardstick again, frame by frame beside the method: the same machine speed for both
            score = evaluate(rec.recognize, base.views, base.negatives, ruler=yardstick_extractor().extract)
            info = getattr(rec, "info", None)
            row = {
                "method": method,
                "artworks": size,
                "level": base.level,
                **score.metrics(),
                "build_s": round(build_s, 1),
                "index_mb": round(info.nbytes / 2**20, 1) if info else "",
                "rss_growth_mb": round(loaded - before, 0),
            }
            scale_rows.append(row)
            failures[f"{method} at {size}"] = score.failures[:20]
            log(table([row], SCALE_COLUMNS).splitlines()[-1])
            del rec
    return {
        "rows": rows,
        "reports": reports,
        "scale": scale_rows,
        "failures": failures,
        "set": bench_set,
        "levels": {
            lv.level: {"views": describe(lv.views), "negatives": len(lv.negatives)} for lv in material
        },
        "held_out_paintings": split.held_out if split else [],
        "guide": ref.guide.name,
        "machine": machine(),
        "yardstick": rulers,
    }


def report_rows(method: str, label: str, report: dict, model: Path) -> list[dict]:
    """A model's report-set figures as rows: all its report views, then those of each benchmark
    level's camera (to hold beside that level's rows)."""
    head = {"method": method, "weights": label}
    rows = [
        {**head, "level": "all", "model": str(model), **{k: v for k, v in report.items() if k != "levels"}}
    ]
    return rows + [
        {**head, "level": level, **figures} for level, figures in (report.get("levels") or {}).items()
    ]


def side_by_side(rows: list[dict]) -> list[dict]:
    """One row per method and weights, each level's main figures beside the others'."""
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        row = out.setdefault((r["method"], r["weights"]), {"method": r["method"], "weights": r["weights"]})
        for key, short in SIDE_BY_SIDE.items():
            row[f"{r['level']} {short}"] = r.get(key, "")
    return list(out.values())


def yardstick(views: list[View]) -> dict[str, float]:
    """Time a plain SIFT extraction of each view (800 features at 560 px): a fixed amount of work to
    set every timing beside, since this machine's speed varies from run to run."""
    sift = yardstick_extractor()
    ms = []
    for v in views:
        t0 = time.perf_counter()
        sift.extract(v.image)
        ms.append((time.perf_counter() - t0) * 1000)
    return summary(ms)


def machine() -> str:
    import os
    import platform

    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores {cpu} ({platform.system()})"


def _verified_params(text: str | None) -> dict | None:
    """``--verified-params`` read: a JSON object of verified retrieval's parameters."""
    if not text:
        return None
    from ..methods.retrieval.verified import GeometricParams

    try:
        given = json.loads(text)
        GeometricParams(**given)
    except (ValueError, TypeError) as exc:
        raise UserError(f"--verified-params {text!r}: {exc}") from None
    return given


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench recognition``: print the tables."""
    levels = tuple(x for x in args.levels.split(",") if x)
    unknown = [x for x in levels if x not in LEVELS]
    if unknown or not levels:
        raise UserError(f"--levels {args.levels!r}: choose from {', '.join(LEVELS)}")
    result = run(
        settings,
        paintings=Path(args.paintings) if args.paintings else None,
        methods=tuple(m for m in args.methods.split(",") if m),
        weights=tuple(args.weights.split(",")),
        whole=VIEW_MIX[0] if args.views is None else args.views,
        per_detail=VIEW_MIX[1] if args.detail_views is None else args.detail_views,
        negatives=args.negatives,
        scale=tuple(int(s) for s in args.scale.split(",") if s),
        scale_methods=tuple(args.scale_methods.split(",")),
        samples=Path(args.samples) if args.samples else None,
        guide_split=args.guide_split,
        train_minutes=train_budgets(args.train_minutes),
        levels=levels,
        bench_set=args.set,
        verified_params=_verified_params(args.verified_params),
    )
    rulers = ", ".join(
        f"{level}: median {r['median_ms']} ms, p95 {r['p95_ms']} ms"
        for level, r in result["yardstick"].items()
    )
    print(
        f"\nrecognition benchmark, {result['set']} set, on {result['machine']} (yardstick, a plain SIFT extraction "
        f"of the same views, before the methods: {rulers}; the yardstick columns time it on every frame right "
        "after the method):"
    )
    print(table(result["rows"], COLUMNS))
    if len(levels) > 1:
        print("\nthe levels side by side (top-1, detail recall, negatives named, p95 / yardstick p95):")
        rows = side_by_side(result["rows"])
        print(table(rows, list(rows[0]) if rows else []))
    if result["reports"]:
        print(
            "\neach trained model's own figures on its report set (metrics.json: views never used for a "
            "choice), to hold beside the benchmark's rows above:"
        )
        print(table(result["reports"], [c for c in REPORT_COLUMNS if any(c in r for r in result["reports"])]))
    if result["scale"]:
        print("\nretrieval as the guide grows (accuracy on the real paintings' views):")
        print(table(result["scale"], SCALE_COLUMNS))
    if args.json:
        atomic_write_json(Path(args.json), result)
        print(f"\nwrote {args.json}")
    if args.show_failures:
        print(json.dumps(result["failures"], indent=1))
    return 0
