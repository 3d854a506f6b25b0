"""Classification: a tiny training run learns, a saved model reloads and predicts the same."""

from __future__ import annotations

import dataclasses
import json
import threading

import cv2
import numpy as np
import pytest

from smartlens.guide import Artwork, Detail, Guide, save_guide
from smartlens.recognition import load_recognizer
from smartlens.recognition.classification import ClassificationRecognizer
from smartlens.synth import pictures
from smartlens.training.classification import TrainParams, calibrate_thresholds, class_names, train_classifier
from smartlens.vocabulary import REJECT

from conftest import EMBEDDER, needs_embedder


@pytest.fixture(scope="module")
def toy_guide(tmp_path_factory):
    """Three generated paintings, two details each (in a folder of its own: any settings can use it)."""
    tmp = tmp_path_factory.mktemp("toy")
    guide = Guide("toy", ["en"], "en")
    files = {}
    for k in range(3):
        cv = pictures.random_painting(500 + k, 360, 300)
        rel = f"images/t{k}.jpg"
        files[rel] = tmp / f"t{k}.jpg"
        cv2.imwrite(str(files[rel]), cv.image)
        motifs = [(n, b) for n, b in cv.motifs.items() if b[2] > 20 and b[3] > 20][:2]
        guide.artworks.append(
            Artwork(f"t{k}", rel, 360, 300, {"en": f"Toy {k}"}, details=[Detail(n, b) for n, b in motifs])
        )
    return save_guide(guide, tmp / "guide", files=files)


TINY = {
    "epochs": 12,
    "per_image": 8,
    "val_per_image": 4,
    "negatives": 16,
    "val_negatives": 8,
    "input_size": 64,
    "batch_size": 16,
    "learning_rate": 3e-3,
    "workers": 1,
}
HISTORY_KEYS = {"train accuracy", "val accuracy", "train loss"}


def test_tiny_training_beats_chance_and_reloads_the_same(toy_guide, settings):
    events = []
    result = train_classifier(toy_guide, settings, TrainParams(**TINY), progress=events.append)
    n_classes = len(class_names(toy_guide))
    chance = 100.0 / (n_classes - 1)
    assert result.metrics["top1_no_threshold"] > 2 * chance, result.metrics
    assert not result.stopped_early
    assert {e.stage for e in events} >= {"data", "training", "calibrating", "done"}
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [e.message for e in events if e.stage == "training"][-1] == "epoch 12/12"
    assert result.model_dir.parent == settings.models / "toy"
    files = {p.name for p in result.model_dir.iterdir()}
    assert {"model.keras", "classes.json", "thresholds.json", "metrics.json", "info.json"} <= files
    assert "curve.png" not in files
    metrics = json.loads((result.model_dir / "metrics.json").read_text())
    assert set(metrics["history"]) == HISTORY_KEYS and all(len(v) == 12 for v in metrics["history"].values())
    assert metrics["held_out"] == result.metrics
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["guide"] == "toy" and info["guide_fingerprint"] and info["weights"]["source"] == "random"
    assert info["route"] == "fine-tuned" and info["stopped_early"] is False
    rec = load_recognizer(toy_guide, settings, "classification")
    assert rec.model_dir == result.model_dir
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_probs, atol=1e-4)
    out = rec.recognize(np.full((480, 640, 3), 128, np.uint8))
    assert out.method == "classification" and out.ms > 0


@needs_embedder
def test_frozen_features_route(toy_guide, settings):
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    result = train_classifier(toy_guide, settings, TrainParams(**TINY))
    assert result.metrics["top1_no_threshold"] > 60, result.metrics
    assert (result.model_dir / "head.npz").is_file()
    history = json.loads((result.model_dir / "metrics.json").read_text())["history"]
    assert set(history) == HISTORY_KEYS and len(history["val accuracy"]) == 60  # a head trains >= 60 epochs
    rec = ClassificationRecognizer(result.model_dir, settings, toy_guide)
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_probs, atol=1e-4)


@pytest.mark.parametrize(
    "route",
    [
        pytest.param("fine-tuned", marks=pytest.mark.slow),  # ~1 min: building and tracing MobileNetV3
        pytest.param("frozen-features", marks=needs_embedder),
    ],
)
def test_a_stop_request_ends_training_early_and_still_saves(toy_guide, settings, route):
    """Both routes share the callbacks: a stop already requested ends training after one batch,
    and the model (its one validated epoch) is calibrated and saved all the same."""
    if route == "frozen-features":
        settings = dataclasses.replace(settings, weights=EMBEDDER)
    stop = threading.Event()
    stop.set()
    result = train_classifier(toy_guide, settings, TrainParams(**TINY), stop=stop)
    assert result.stopped_early
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["route"] == route and info["stopped_early"] is True
    history = json.loads((result.model_dir / "metrics.json").read_text())["history"]
    assert all(len(v) == 1 for v in history.values()), history
    rec = load_recognizer(toy_guide, settings, "classification")
    assert rec.model_dir == result.model_dir


def test_thresholds_keep_negatives_out():
    classes = ["a", "b", REJECT]
    y = np.array([0] * 10 + [1] * 10 + [2] * 10)
    probs = np.zeros((30, 3))
    probs[:10, 0] = np.linspace(0.5, 0.95, 10)
    probs[10:20, 1] = 0.9
    probs[20:25, 0] = 0.55  # negatives taken for 'a' with low confidence
    probs[25:, 2] = 0.9
    probs[:, 2] += 1 - probs.sum(axis=1)
    thr = calibrate_thresholds(probs, y, classes)
    assert 0.55 < thr[0] <= 0.6  # above the negatives, below most right answers
    assert thr[1] <= 0.9
