"""Build a trained model's open-set gate (:mod:`smartlens.recognition.open_set`) from the views it
was trained on: no retraining, a minute or less, so it is also rebuilt on its own
(``smartlens gate``) for models trained before the gate existed."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..augment.engine import read_labels
from ..backbone import tflite_file
from ..config import Settings
from ..imaging import read_image
from ..model_store import read_info
from ..progress import Progress, ProgressEvent, no_progress
from ..recognition.open_set import MapDescriber, OpenSetGate
from ..storage import atomic_write_json

log = logging.getLogger("smartlens.training")

#: Seconds a training budget keeps for building the gate (measured here: about 32 s for 1,860 views).
GATE_RESERVE_S = 45.0


def gate_reserve(settings: Settings, budget_s: float) -> float:
    """What to keep of a ``budget_s`` training budget for the gate (none without TFLite weights)."""
    return min(0.15 * budget_s, GATE_RESERVE_S) if tflite_file(None, settings) is not None else 0.0


def _views(folder: Path) -> list[tuple[Path, str | None]]:
    """(image, artwork or None for a negative) of every view the engine made in ``folder``."""
    return [
        (folder / r["file"], r["label"].split("/", 1)[0] if r.get("label") else None)
        for r in read_labels(folder)
    ]


def _describe(describer: MapDescriber, files: list[Path], progress: Progress, start: float, span: float):
    out = []
    for i in range(0, len(files), 64):
        progress(
            ProgressEvent("gate", start + span * i / max(1, len(files)), "describing views for the gate")
        )
        out.append(describer.describe([read_image(f) for f in files[i : i + 64]]))
    return np.concatenate(out) if out else np.zeros((0, 1), np.float32)


def build_gate(
    recognizer: Any,
    train_dir: Path,
    held_dir: Path,
    weights: Path,
    progress: Progress = no_progress,
) -> OpenSetGate:
    """The gate for ``recognizer`` (with its ``recognize``): banks from the training views,
    threshold from the held-out views it names right, and a report of what the gate does to
    the held-out views."""
    describer = MapDescriber(weights)
    train = _views(Path(train_dir))
    artworks = sorted({a for _, a in train if a is not None})
    desc = _describe(describer, [f for f, _ in train], progress, 0.0, 0.6)
    is_pos = np.array([a is not None for _, a in train])
    owner = np.array([artworks.index(a) if a is not None else -1 for _, a in train], np.int32)
    gate = OpenSetGate(artworks, desc[is_pos], owner[is_pos], desc[~is_pos])

    held = _views(Path(held_dir))
    named, described = [], []
    for i, (f, _) in enumerate(held):  # each view read once: named by the model, then described
        if i % 32 == 0:
            progress(ProgressEvent("gate", 0.6 + 0.4 * i / max(1, len(held)), "naming held-out views"))
        image = read_image(f)
        named.append(recognizer.recognize(image).artwork)
        described.append(describer.describe([image]))
    held_desc = np.concatenate(described) if described else np.zeros((0, desc.shape[1]), np.float32)
    right = [i for i, (_, a) in enumerate(held) if a is not None and named[i] == a]
    # the views the model names right; a model that names few (a tiny or failed training) is
    # calibrated on all its held-out views of the guide instead
    calib = right if len(right) >= 10 else [i for i, (_, a) in enumerate(held) if a is not None]
    gate.calibrate(held_desc[calib], [held[i][1] for i in calib])  # type: ignore[misc]

    def kept(i: int) -> bool:
        return named[i] is not None and bool(gate.scores(held_desc[i : i + 1], named[i])[0] >= gate.threshold)

    negatives = [i for i, (_, a) in enumerate(held) if a is None]
    gate.report = {
        "threshold": round(gate.threshold, 4),
        "bank": {"positives": int(is_pos.sum()), "negatives": int((~is_pos).sum())},
        "held_out_views": len(held) - len(negatives),
        "held_out_named_right": len(right),
        "held_out_right_kept": round(float(np.mean([kept(i) for i in right])), 3) if right else None,
        "held_out_negatives": len(negatives),
        "held_out_negatives_named": sum(named[i] is not None for i in negatives),
        "held_out_negatives_named_after_gate": sum(kept(i) for i in negatives),
        "weights": str(weights),
    }
    gate.describer = describer
    return gate


def add_gate(
    model_dir: Path,
    settings: Settings,
    train_dir: Path,
    held_dir: Path,
    open_model: Callable[[], Any],
    progress: Progress = no_progress,
) -> dict:
    """Build and save the gate of the model in ``model_dir`` (a staging folder or a finished one)
    from its training and held-out views, on the model as ``open_model()`` opens it (without a
    gate), and record its report in the model's ``metrics.json``; what it did, or why there is none."""
    info = read_info(model_dir)
    weights = tflite_file((info.get("weights") or {}).get("path"), settings)
    if weights is None:
        report: dict = {
            "available": False,
            "why": "the open-set gate compares pretrained features: it needs a TFLite MobileNetV3 "
            "embedder (the weights setting)",
        }
    else:
        gate = build_gate(open_model(), train_dir, held_dir, weights, progress)
        gate.save(model_dir, weights)
        report = {"available": True, **gate.report}
    metrics_path = Path(model_dir) / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    atomic_write_json(metrics_path, {**metrics, "open_set_gate": report})
    return report
