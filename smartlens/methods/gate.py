"""A trained model's open-set gate after training: (re)build it with its report (``smartlens
gate``, for models trained before this gate, or cancelled before it was built), and the
curator's choice of its threshold (the studio), which the lens reads with the model."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import UserError
from ..guide import GuideRef
from ..model_store import read_info
from ..params import parse_params
from ..progress import Progress, no_progress
from ..training.views import TrainingViews
from .open_set import CHOICES, check_and_report, read_gate, save_setting
from .registry import training_of


def model_views(
    model_dir: Path, ref: GuideRef, settings: Settings, progress: Progress = no_progress
) -> TrainingViews:
    """The views a model was trained and validated on (as recorded when they are still there,
    else made again from its recorded parameters, found in the cache when they are), and its
    report views as the guide's pictures say now: a check negative or check photo added since
    the training counts (the same views as before when nothing changed; the recorded ones when
    check photos dealt anew would put one the model chose on in the report)."""
    info = read_info(model_dir)
    training = training_of(str(info.get("method", "")))
    params = parse_params(training.params, info.get("params") or {}, f"{Path(model_dir).name}: parameter")
    views = info.get("views") or {}
    train, validation = (Path(views.get(k) or "") for k in ("train", "validation"))
    if all(str(f) != "." and f.is_dir() for f in (train, validation)):
        done = TrainingViews(train, validation, Path(), bool(views.get("complete", True)), 0.0, 0)
    else:
        done = training.views(ref, settings, params, progress)
    report = training.views(ref, settings, params, progress, report_only=True)
    recorded = Path(views.get("report") or "")
    if str(recorded) != "." and recorded.is_dir() and _checks(report.report) & _checks(done.validation):
        # check photos added since were dealt anew: one the model chose on would be reported on
        return replace(done, report=recorded)
    return replace(done, report=report.report, complete=done.complete and report.complete)


def _checks(views: Path) -> set[str]:
    """The check photos a folder of unseen views shows (from its manifest)."""
    try:
        return {str(p) for p, _ in json.loads((views / "manifest.json").read_text()).get("checks", [])}
    except (OSError, ValueError):
        return set()


def rebuild_gate(
    model_dir: Path, ref: GuideRef, settings: Settings, progress: Progress = no_progress
) -> dict[str, Any]:
    """Build and save the gate of the model in ``model_dir``, then score its report views; its
    metrics.json content."""
    training = training_of(str(read_info(model_dir).get("method", "")))
    views = model_views(model_dir, ref, settings, progress)
    return check_and_report(
        model_dir,
        ref,
        views,
        lambda folder, gate: training.open_model(folder, settings, ref, gate),
        progress,
    )


def set_gate_threshold(model_dir: Path, min_inliers: int | None) -> None:
    """Keep a curator's threshold for the model's gate (None: the calibrated one again); the lens
    uses it from the model's next loading (publishing the model again reloads it at once)."""
    if read_gate(model_dir) is None:
        raise UserError(f"model {Path(model_dir).name} has no open-set gate: build it with 'smartlens gate'")
    if min_inliers is not None and min_inliers not in CHOICES:
        raise UserError(
            f"the gate's threshold must be between {CHOICES[0]} and {CHOICES[-1]} agreeing keypoints"
        )
    save_setting(model_dir, min_inliers)
