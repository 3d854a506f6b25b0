"""The open-set gate: a learned method refuses paintings that are not in the guide."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from smartlens.bench.views import held_out_views, paintings_dir, split_guide
from smartlens.methods.classification.params import ClassificationParams
from smartlens.methods.classification.recognizer import ClassificationRecognizer
from smartlens.methods.classification.train import train_classifier
from smartlens.recognition.open_set import GATE_FILE, OpenSetGate, read_gate
from smartlens.recognition.result import Recognition

from conftest import EMBEDDER, needs_embedder


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_gate_scores_against_the_artwork_and_the_negatives_and_calibrates_from_right_answers():
    rng = np.random.default_rng(0)
    centres = _unit(rng.normal(size=(3, 32)))  # two artworks and "not in the guide"

    def around(c, n, spread=0.3):
        return _unit(centres[c] + spread * rng.normal(size=(n, 32)) / np.sqrt(32))

    gate = OpenSetGate(
        ["a", "b"], np.concatenate([around(0, 20), around(1, 20)]), np.repeat([0, 1], 20), around(2, 20)
    )
    held_a = around(0, 100)
    t = gate.calibrate(held_a, ["a"] * 100)
    assert np.mean(gate.scores(held_a, "a") >= t) == pytest.approx(0.99, abs=0.011)  # 1 in 100 refused
    assert np.all(gate.scores(around(2, 50), "a") < t)  # what looks like the negatives is refused
    assert np.all(gate.scores(around(1, 50), "a") < t)  # and so is another artwork's look
    assert np.all(np.isneginf(gate.scores(held_a, "unknown")))
    nothing = Recognition(None, method="classification")
    assert gate.check(np.zeros((8, 8, 3), np.uint8), nothing) is nothing  # nothing to check


@needs_embedder
def test_a_painting_that_is_not_in_the_guide_is_refused(settings, tmp_path):
    """Guide: three of the shared paintings; the fourth is the curator's negative picture; the
    other four are never trained on. The trained model's gate is built with it, saved, reloaded,
    and on camera views of the paintings it never saw the recogniser names (almost) nothing,
    while it still names the guide's own paintings."""
    from smartlens.bench.views import artwork_views

    settings = dataclasses.replace(settings, weights=EMBEDDER)
    split = split_guide(paintings_dir(settings), settings, 3)
    params = ClassificationParams(
        per_image=10, val_per_image=4, negatives=60, val_negatives=16, workers=1, frozen_features=True
    )
    result = train_classifier(split.ref, settings, params)
    assert (result.model_dir / GATE_FILE).is_file()
    report = json.loads((result.model_dir / "metrics.json").read_text())["open_set_gate"]
    assert report["available"] and report["held_out_named_right"] > 0
    gate, weights = read_gate(result.model_dir)  # type: ignore[misc]
    assert weights == EMBEDDER and gate.artworks == sorted(a.id for a in split.ref.guide.artworks)

    gated = ClassificationRecognizer(result.model_dir, settings, split.ref)
    plain = ClassificationRecognizer(result.model_dir, settings, split.ref, use_gate=False)
    assert gated.gate is not None and plain.gate is None
    others = held_out_views(split, 4, 0)
    assert len(others) == 16
    named_by_gated = [gated.recognize(v.image).artwork for v in others]
    named_by_plain = [plain.recognize(v.image).artwork for v in others]
    assert sum(a is not None for a in named_by_gated) <= 1, named_by_gated
    assert sum(a is not None for a in named_by_gated) <= sum(a is not None for a in named_by_plain)
    own = artwork_views(split.ref, 4, 0)
    right = [gated.recognize(v.image).artwork == v.artwork for v in own]
    assert np.mean(right) >= 0.6, right
