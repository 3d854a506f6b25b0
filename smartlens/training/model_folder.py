"""What every training writes into its versioned model folder, in one place: the common part of
``info.json``, the class list, thresholds and metrics, the open-set gate, then the folder appears
under its final name in one rename (a reader never sees half a model)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..backbone import WeightsInfo
from ..config import Settings
from ..guide import GuideRef, fingerprint
from ..model_store import INFO
from ..progress import Progress, ProgressEvent
from ..storage import atomic_write_json
from .open_set import add_gate
from .views import TrainingViews


def model_info(
    method: str,
    ref: GuideRef,
    seconds: float,
    stopped_early: bool,
    weights: WeightsInfo,
    params: Any,
    views: TrainingViews,
) -> dict[str, Any]:
    """The part of ``info.json`` both methods share (each adds its own keys)."""
    return {
        "method": method,
        "guide": ref.guide.name,
        "guide_fingerprint": fingerprint(ref.guide, ref.root, visual_only=True),
        "created": time.time(),
        "seconds": round(seconds, 1),
        "stopped_early": stopped_early,
        # as resolved for the backbone (build_mobilenet says, with a warning, when it cannot use them)
        "weights": {
            "source": weights.source,
            "path": str(weights.path) if weights.path else None,
            "pretrained": weights.pretrained,
        },
        "params": {**asdict(params), "negative_dirs": [str(d) for d in params.negative_dirs]},
        "views": {
            "train": str(views.train),
            "held_out": str(views.held_out),
            "complete": views.complete,
            "seconds": round(views.seconds, 1),
            "negative_pictures": views.negative_pictures,
            "made_now": views.made,
        },
    }


@dataclass
class ModelRecord:
    """What a training writes beside its weights: classes, their thresholds, figures, info."""

    classes: list[str]
    thresholds: np.ndarray
    metrics: dict
    history: dict
    info: dict[str, Any]


def save_model(
    staging: Path,
    final: Path,
    ref: GuideRef,
    settings: Settings,
    record: ModelRecord,
    views: TrainingViews,
    open_model: Callable[[Path], Any],
    progress: Progress,
) -> None:
    """Write the model's files beside its weights (already in ``staging``), build its gate on the
    model as ``open_model(folder)`` opens it (without a gate), and give the folder its final name."""
    atomic_write_json(staging / "classes.json", record.classes)
    atomic_write_json(
        staging / "thresholds.json", {c: float(t) for c, t in zip(record.classes, record.thresholds)}
    )
    atomic_write_json(staging / "metrics.json", {"held_out": record.metrics, "history": record.history})
    atomic_write_json(staging / INFO, record.info)
    progress(ProgressEvent("gate", 0.98, "building the open-set gate (refuses paintings not in the guide)"))
    add_gate(staging, settings, views.train, views.held_out, lambda: open_model(staging))
    os.replace(staging, final)
