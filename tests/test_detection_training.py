"""A tiny detector trains end to end, saves, reloads and predicts boxes in frame pixels; annotate
turns a model's boxes (or another guide's retrieval) into proposals marked automatic.

Slow: TensorFlow builds and trains a MobileNetV3 detector (minutes on a shared 2-core machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartlens.guide import load_guide, save_guide
from smartlens.guide.formats.paintings import import_paintings
from smartlens.guide.proposals import accept, read_proposals
from smartlens.imaging import read_image
from smartlens.preannotate import propose_from_retrieval

from conftest import EMBEDDER, PAINTINGS, ROOT, TEST_ENV, needs_embedder, needs_paintings

pytestmark = [pytest.mark.slow, needs_paintings]


def _guide(settings, name: str, n: int, details: bool = True):
    imp = import_paintings(PAINTINGS, name)
    imp.guide.artworks = imp.guide.artworks[:n]
    if not details:
        for a in imp.guide.artworks:
            a.details = []
    used = {a.image for a in imp.guide.artworks}
    return save_guide(
        imp.guide, settings.guides / name, files={k: v for k, v in imp.files.items() if k in used}
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    import dataclasses

    from smartlens.methods.detection.params import DetectionParams
    from smartlens.methods.detection.train import train_detector

    from conftest import SESSION_SETTINGS

    tmp = tmp_path_factory.mktemp("det")
    settings = dataclasses.replace(SESSION_SETTINGS, data_dir=tmp / "data", models_dir=tmp / "models")
    ref = _guide(settings, "tiny", 2)
    params = DetectionParams(
        epochs=1,
        per_image=2,
        val_per_image=1,
        negatives=4,
        val_negatives=2,
        input_size=96,
        batch_size=8,
        workers=1,
    )
    # the views made ahead, as the studio's views job does, with the same options as command-line flags
    from smartlens import cli

    views = "--per-image 2 --val-per-image 1 --negatives 4 --val-negatives 2 --input-size 96 --workers 1"
    args = cli.build_parser().parse_args(
        ["augment", "--guide", str(ref.root), "--for-training", "--method", "detection", *views.split()]
    )
    assert args.handler(args, settings) == 0
    return ref, settings, train_detector(ref, settings, params)


def test_views_made_ahead_are_the_ones_a_detection_training_reads(trained, capsys):
    """``augment --for-training --method detection`` made every view the training then read."""
    _, _, result = trained
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["views"]["made_now"] == 0  # the training made none: all were there
    assert len(list((Path(info["views"]["train"]) / "images").glob("*.jpg"))) > 0


def test_tiny_model_trains_saves_reloads_and_predicts_boxes(trained):
    from smartlens.methods import load_recognizer
    from smartlens.methods.detection.train import class_names

    ref, settings, result = trained
    folder = result.model_dir
    assert folder.parent.name == "tiny" and folder.name.startswith("detection-")
    for name in ("model.keras", "classes.json", "thresholds.json", "metrics.json", "info.json"):
        assert (folder / name).is_file(), name
    info = json.loads((folder / "info.json").read_text())
    assert info["method"] == "detection" and info["guide_fingerprint"] and "weights" in info
    classes = json.loads((folder / "classes.json").read_text())
    assert classes == class_names(ref) and classes[1:3] == [a.id for a in ref.guide.artworks]
    metrics = json.loads((folder / "metrics.json").read_text())
    assert set(metrics["held_out"]["per_class_ap"]) == set(classes[1:])
    assert len(metrics["history"]["train loss"]) == 1 and "map50" in metrics["held_out"]

    rec = load_recognizer(ref, settings, "detection", model=str(folder))
    frame = cv2.resize(read_image(ref.path(ref.guide.artworks[0].image)), (640, 480))
    found = rec.boxes(frame, min_score=0.0)  # every class's best box, however unsure
    assert len(found) == len(classes) - 1
    for _, score, (x, y, w, h) in found:
        assert 0 <= score <= 1 and x >= 0 and y >= 0 and x + w <= 640.01 and y + h <= 480.01 and w > 0 < h
    r = rec.recognize(frame)
    assert r.method == "detection" and r.ms > 0
    assert r.artwork is None or r.artwork in classes  # a one-epoch model mostly refuses


def test_annotate_writes_proposals_marked_automatic(trained, tmp_path):
    ref, settings, result = trained
    env = {
        **os.environ,
        **TEST_ENV,
        "SMARTLENS_DATA": str(settings.data),
        "SMARTLENS_MODELS": str(settings.models),
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "smartlens",
            "annotate",
            "--guide",
            str(ref.root),
            "--model",
            str(result.model_dir),
        ]
        + ["--min-score", "0"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    proposals = read_proposals(ref)
    assert proposals and all(
        p.automatic and p.source == f"detection:{result.model_dir.name}" for p in proposals
    )
    assert f"{len(proposals)} proposal(s) saved" in out.stdout
    p = proposals[0]
    updated = accept(ref, p.id, settings)
    art = updated.guide.artwork(p.artwork)
    assert art.details[-1].box == tuple(int(round(v)) for v in p.box)
    assert load_guide(ref.root, settings).guide.artwork(p.artwork).details[-1].id == art.details[-1].id


def test_retrieval_of_another_guide_proposes_its_details(settings):
    annotated = _guide(settings, "annotated", 1)
    bare = _guide(settings, "bare", 1, details=False)
    made = propose_from_retrieval(bare, annotated, settings)
    truth = {d.id: np.array(d.box, float) for d in annotated.guide.artworks[0].details}
    assert made and all(p.source == "retrieval:annotated" and p.automatic for p in made)
    for p in made:  # the same picture: boxes land where the other guide has them
        assert np.abs(np.array(p.box) - truth[p.label]).max() < 0.05 * annotated.guide.artworks[0].width


@needs_embedder
def test_gate_command_adds_an_open_set_gate_to_a_detector(trained, capsys):
    """Trained without pretrained weights, the detector has no gate (and its metrics say why);
    ``smartlens gate`` builds one from the views it was trained on once TFLite weights are set."""
    import dataclasses

    from smartlens import cli
    from smartlens.methods.detection.recognizer import DetectionRecognizer

    ref, settings, result = trained
    report = json.loads((result.model_dir / "metrics.json").read_text())["open_set_gate"]
    assert report["available"] is False and "TFLite" in report["why"]
    with_tflite = dataclasses.replace(settings, weights=EMBEDDER)
    argv = ["gate", "--guide", str(ref.root), "--method", "detection", "--model", str(result.model_dir)]
    args = cli.build_parser().parse_args(argv)
    assert args.handler(args, with_tflite) == 0
    assert "open-set gate saved" in capsys.readouterr().out
    rec = DetectionRecognizer(result.model_dir, with_tflite, ref)
    assert rec.gate is not None and rec.gate.artworks == sorted(a.id for a in ref.guide.artworks)
    assert json.loads((result.model_dir / "metrics.json").read_text())["open_set_gate"]["available"]
