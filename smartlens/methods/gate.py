"""A trained model's open-set gate after training: (re)build it with its report (``smartlens
gate``, for models trained before this gate, or cancelled before it was built), and the
curator's choice of its threshold (the studio), which the lens reads with the model."""

from __future__ import annotations

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
    """The views a model was trained, validated and reported on: as recorded when they are still
    there, else made again from its recorded parameters (found in the cache when they are)."""
    info = read_info(model_dir)
    views = info.get("views") or {}
    folders = [Path(views.get(k) or "") for k in ("train", "validation", "report")]
    if all(str(f) != "." and f.is_dir() for f in folders):
        train, validation, report = folders
        return TrainingViews(train, validation, report, bool(views.get("complete", True)), 0.0, 0)
    training = training_of(str(info.get("method", "")))
    params = parse_params(training.params, info.get("params") or {}, f"{Path(model_dir).name}: parameter")
    return training.views(ref, settings, params, progress)


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
