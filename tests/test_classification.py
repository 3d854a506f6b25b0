"""Classification: a tiny training run learns, a saved model reloads and predicts the same."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from conftest import EMBEDDER, needs_embedder
from smartlens import procedural
from smartlens.guide import Artwork, Detail, Guide
from smartlens.guide_store import save_guide
from smartlens.recognition import load_recognizer
from smartlens.recognition.classification import ClassificationRecognizer
from smartlens.training.classification import (REJECT, TrainParams, calibrate_thresholds, class_names,
                                               train_classifier)


@pytest.fixture(scope="module")
def toy_guide(tmp_path_factory):
    """Three generated paintings, two details each."""
    tmp = tmp_path_factory.mktemp("toy")
    guide = Guide("toy", ["en"], "en")
    files = {}
    for k in range(3):
        cv = procedural.random_painting(500 + k, 360, 300)
        rel = f"images/t{k}.jpg"
        files[rel] = tmp / f"t{k}.jpg"
        cv2.imwrite(str(files[rel]), cv.image)
        motifs = [(n, b) for n, b in cv.motifs.items() if b[2] > 20 and b[3] > 20][:2]
        guide.artworks.append(Artwork(f"t{k}", rel, 360, 300, {"en": f"Toy {k}"},
                                      details=[Detail(n, b) for n, b in motifs]))
    return save_guide(guide, tmp / "guide", files=files)


TINY = dict(epochs=12, per_image=8, val_per_image=4, negatives=16, val_negatives=8, input_size=64, batch_size=16,
            learning_rate=3e-3, workers=1)


def test_tiny_training_beats_chance_and_reloads_the_same(toy_guide, settings_env):
    events = []
    result = train_classifier(toy_guide, TrainParams(**TINY), progress=events.append)
    n_classes = len(class_names(toy_guide))
    chance = 100.0 / (n_classes - 1)
    assert result.metrics["top1_no_threshold"] > 2 * chance, result.metrics
    assert {e.stage for e in events} >= {"data", "training", "calibrating", "done"}
    files = {p.name for p in result.model_dir.iterdir()}
    assert {"model.keras", "classes.json", "thresholds.json", "metrics.json", "curve.png", "info.json"} <= files
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["guide"] == "toy" and info["guide_fingerprint"] and info["weights"]["source"] == "random"
    rec = load_recognizer(toy_guide, "classification")
    assert rec.model_dir == result.model_dir
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_probs, atol=1e-4)
    out = rec.recognize(np.full((480, 640, 3), 128, np.uint8))
    assert out.method == "classification" and out.ms > 0


@needs_embedder
def test_frozen_features_route(toy_guide, settings_env):
    settings_env(SMARTLENS_WEIGHTS=str(EMBEDDER))
    result = train_classifier(toy_guide, TrainParams(**TINY))
    assert result.metrics["top1_no_threshold"] > 60, result.metrics
    assert (result.model_dir / "head.npz").is_file()
    rec = ClassificationRecognizer(result.model_dir, toy_guide)
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_probs, atol=1e-4)


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
