"""What every training writes into its versioned model folder, in one place: the common part of
``info.json``, the class list, thresholds and metrics, the open-set gate, the report set's
figures, then the folder appears under its final name in one rename (a reader never sees half a
model).

``metrics.json`` holds three parts, one per role of views: ``validation`` (the figures every
choice was made on, and the best epoch), ``open_set_gate`` (built and calibrated on the
validation views) and ``report`` (the figures of views nothing was chosen on: what the studio and
the CLI show), plus the training ``history``. A training asked to stop still keeps its best model
so far: the gate and the report are then skipped with a note saying so (``smartlens gate``
builds both later).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..backbone import WeightsInfo
from ..guide import GuideRef, fingerprint
from ..model_store import INFO
from ..storage import atomic_write_json
from .views import TrainingViews

#: What a model folder's metrics.json calls each part.
VALIDATION, REPORT, GATE, HISTORY = "validation", "report", "open_set_gate", "history"
#: Seconds kept after training for the calibration, the gate and the report, per view of each
#: set (measured on this 2-core machine while it was shared: about 5-10 ms to describe a training
#: view, 30-60 ms to recognise and describe a validation or report view), plus saving.
AFTER_TRAINING_S = 15.0
PER_TRAINING_VIEW_S = 0.01
PER_CHECKED_VIEW_S = 0.06
#: A fine-tuned network's export to TFLite for the lens (measured: 20 s for the classifier here).
EXPORT_S = 20.0
#: ...but never more than this share of the budget.
AFTER_TRAINING_SHARE = 0.4


def after_training_s(
    train: int, validation: int, report: int, budget_s: float | None, exported: bool = True
) -> float:
    """The seconds a training keeps for what follows its last epoch: exporting the network (when
    ``exported``), calibrating, the open-set gate and the report (a share of the budget at most)."""
    need = AFTER_TRAINING_S + PER_TRAINING_VIEW_S * train + PER_CHECKED_VIEW_S * (validation + report)
    need += EXPORT_S if exported else 0.0
    return need if budget_s is None else min(need, AFTER_TRAINING_SHARE * budget_s)


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
            "validation": str(views.validation),
            "report": str(views.report),
            "complete": views.complete,
            "seconds": round(views.seconds, 1),
            "negative_pictures": views.negative_pictures,
            "check_photos": views.check_photos,
            "made_now": views.made,
        },
    }


@dataclass
class ModelRecord:
    """What a training writes beside its weights: classes, their thresholds, figures, info."""

    classes: list[str]
    thresholds: np.ndarray
    #: The figures on the validation views (the choices were made on them).
    validation: dict
    history: dict
    info: dict[str, Any]
    #: The epoch whose weights were kept (1-based; None when unknown).
    best_epoch: int | None = None


def read_metrics(model_dir: Path) -> dict[str, Any]:
    """A model folder's metrics.json ({} when it has none yet)."""
    path = Path(model_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def write_model_files(staging: Path, record: ModelRecord) -> None:
    """Write what a training keeps beside its weights (already in ``staging``)."""
    atomic_write_json(staging / "classes.json", record.classes)
    atomic_write_json(
        staging / "thresholds.json", {c: float(t) for c, t in zip(record.classes, record.thresholds)}
    )
    atomic_write_json(
        staging / "metrics.json",
        {VALIDATION: {**record.validation, "best_epoch": record.best_epoch}, HISTORY: record.history},
    )
    atomic_write_json(staging / INFO, record.info)


def finish_model(staging: Path, final: Path) -> None:
    """Give a complete model folder its final name (one rename: nobody sees half a model)."""
    os.replace(staging, final)
