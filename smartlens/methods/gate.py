"""(Re)build the open-set gate of a model that is already trained (``smartlens gate``): for models
trained before the gate existed, or to rebuild it after the weights file moved."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..guide import GuideRef
from ..model_store import read_info
from ..params import parse_params
from ..progress import Progress, no_progress
from ..training.open_set import add_gate
from .registry import training_of


def model_views(model_dir: Path, ref: GuideRef, settings: Settings, progress: Progress = no_progress):
    """(training views, held-out views) folders a model was trained on: as recorded, else made
    again from its recorded parameters (found in the cache when they are still there)."""
    info = read_info(model_dir)
    views = info.get("views") or {}
    if views.get("train") and Path(views["train"]).is_dir() and Path(views.get("held_out", "")).is_dir():
        return Path(views["train"]), Path(views["held_out"])
    training = training_of(str(info.get("method", "")))
    params = parse_params(training.params, info.get("params") or {}, f"{Path(model_dir).name}: parameter")
    made = training.views(ref, settings, params, progress)
    return made.train, made.held_out


def rebuild_gate(
    model_dir: Path, ref: GuideRef, settings: Settings, progress: Progress = no_progress
) -> dict:
    """Build and save the gate of the model in ``model_dir``; its report (or why there is none)."""
    training = training_of(str(read_info(model_dir).get("method", "")))
    train, held = model_views(model_dir, ref, settings, progress)
    return add_gate(
        model_dir,
        settings,
        train,
        held,
        lambda: training.open_model(model_dir, settings, ref, False),
        progress,
    )
