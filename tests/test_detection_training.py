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

from conftest import PAINTINGS, ROOT, TEST_ENV, needs_paintings

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


def test_tiny_model_trains_saves_reloads_and_predicts_boxes(trained, monkeypatch):
    from smartlens.methods import load_recognizer
    from smartlens.methods.detection import recognizer as recognizer_module
    from smartlens.methods.detection.train import class_names

    ref, settings, result = trained
    folder = result.model_dir
    assert folder.parent.name == "tiny" and folder.name.startswith("detection-")
    for name in (
        "model.keras",
        "model.tflite",
        "classes.json",
        "thresholds.json",
        "metrics.json",
        "info.json",
    ):
        assert (folder / name).is_file(), name
    info = json.loads((folder / "info.json").read_text())
    assert info["method"] == "detection" and info["guide_fingerprint"] and "weights" in info
    classes = json.loads((folder / "classes.json").read_text())
    assert classes == class_names(ref) and classes[1:3] == [a.id for a in ref.guide.artworks]
    metrics = json.loads((folder / "metrics.json").read_text())
    # the validation views chose the epoch (by their mAP@0.5) and the thresholds; the report views
    # were only scored, with the gate, as the benchmark scores a method
    assert set(metrics["validation"]["per_class_ap"]) == set(classes[1:])
    assert len(metrics["history"]["train loss"]) == 1 and metrics["validation"]["best_epoch"] == 1
    assert len(metrics["history"]["val mAP@0.5"]) == 1 and "map50" in metrics["validation"]
    assert metrics["open_set_gate"]["available"]  # geometric: no pretrained weights needed
    assert {"artwork_top1", "detail_recall", "negatives_fp", "views"} <= set(metrics["report"])

    rec = load_recognizer(ref, settings, "detection", model=str(folder))
    frame = cv2.resize(read_image(ref.path(ref.guide.artworks[0].image)), (640, 480))
    # the lens runs the network saved as TFLite: the same raw outputs (every anchor's offsets and
    # class logits) as the Keras model, and each class's best score. Not the best boxes: this
    # model's scores are near ties across anchors, so float rounding may pick another anchor.
    import keras

    from smartlens.methods.detection.recognizer import compiled_detector
    from smartlens.methods.inference import TFLiteModel

    assert not hasattr(rec, "model")
    x = cv2.resize(frame, (rec.size, rec.size), interpolation=cv2.INTER_AREA)[None, :, :, ::-1].astype(
        np.float32
    )
    network = keras.models.load_model(folder / "model.keras", compile=False)
    raw = network(x, training=False).numpy()
    np.testing.assert_allclose(TFLiteModel(folder / "model.tflite", rec.size)(x), raw, atol=1e-4)
    want_scores, _ = compiled_detector(network, rec.anchors, rec.size)(x)
    np.testing.assert_allclose(rec._call(x)[0], want_scores, atol=1e-5)
    found = rec.boxes(frame, min_score=0.0)  # every class's best box, however unsure
    assert len(found) == len(classes) - 1
    for _, score, (x, y, w, h) in found:
        assert 0 <= score <= 1 and x >= 0 and y >= 0 and x + w <= 640.01 and y + h <= 480.01 and w > 0 < h
    r = rec.recognize(frame)
    assert r.method == "detection" and r.ms > 0
    # A one-epoch model from random weights has learned nothing (every class's best score about
    # 0.001-0.003 on any frame, measured): no threshold passes, nothing reaches the proposal floor,
    # so it names nothing, neither its own paintings nor a grey wall.
    views = {a.id: _photo(read_image(ref.path(a.image))) for a in ref.guide.artworks}
    grey = np.full((480, 640, 3), 128, np.uint8)
    assert [rec.recognize(v).artwork for v in [*views.values(), grey]] == [None] * (len(views) + 1)
    # With every artwork proposed (floor 0), the gate calibrated at training picks the one each
    # photo shows, and refuses a grey wall and a painting outside the guide.
    monkeypatch.setattr(recognizer_module, "PROPOSAL_FLOOR", 0.0)
    assert {a: rec.recognize(v).artwork for a, v in views.items()} == {a: a for a in views}
    assert rec.recognize(grey).artwork is None
    outside = import_paintings(PAINTINGS, "outside")
    other = outside.guide.artworks[len(ref.guide.artworks)]
    assert rec.recognize(_photo(read_image(outside.files[other.image]))).artwork is None


def _photo(picture: np.ndarray) -> np.ndarray:
    """The picture as a 640-pixel frame, its shape kept."""
    scale = 640 / max(picture.shape[:2])
    return cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


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


def test_gate_command_rebuilds_the_gate_and_the_report_of_a_detector(trained, capsys):
    """``smartlens gate`` builds a model's gate again (for a model trained before it, or
    cancelled before it was built) from its recorded validation views, and scores its report."""
    from smartlens import cli
    from smartlens.methods.detection.recognizer import DetectionRecognizer
    from smartlens.methods.open_set import GATE_FILE

    ref, settings, result = trained
    (result.model_dir / GATE_FILE).unlink()
    assert DetectionRecognizer(result.model_dir, settings, ref).gate is None
    argv = ["gate", "--guide", str(ref.root), "--method", "detection", "--model", str(result.model_dir)]
    args = cli.build_parser().parse_args(argv)
    assert args.handler(args, settings) == 0
    out = capsys.readouterr().out
    assert "open-set gate: at least" in out and "report set" in out
    rec = DetectionRecognizer(result.model_dir, settings, ref)
    assert rec.gate is not None and rec.gate.artworks == [a.id for a in ref.guide.artworks]
    assert json.loads((result.model_dir / "metrics.json").read_text())["open_set_gate"]["available"]


def test_gate_scores_a_report_with_the_check_negatives_added_since_training(trained):
    """A check negative a curator adds after a training (``negatives/check/``: a photo of another
    work kept for checking) is shown by the report views ``smartlens gate`` scores, and by no other
    set: the validation views the gate is built on stay the recorded ones."""
    from smartlens.methods.gate import model_views
    from smartlens.model_store import read_info
    from smartlens.training.negatives import CHECK_DIR, negatives_dir

    ref, settings, result = trained
    before = model_views(result.model_dir, ref, settings)
    picture = negatives_dir(ref) / CHECK_DIR / "other-work.png"
    picture.parent.mkdir(parents=True)
    cv2.imwrite(str(picture), np.random.default_rng(3).integers(0, 255, (240, 320, 3), np.uint8))
    try:
        after = model_views(result.model_dir, ref, settings)
        shown = [
            json.loads((v.report / "manifest.json").read_text())["negative_pictures"] for v in (before, after)
        ]
        assert str(picture.resolve()) not in shown[0] and str(picture.resolve()) in shown[1]
        assert after.report != before.report
        recorded = read_info(result.model_dir)["views"]
        assert str(after.validation) == recorded["validation"] == str(before.validation)
        assert str(after.train) == recorded["train"]
    finally:
        picture.unlink()
        picture.parent.rmdir()
