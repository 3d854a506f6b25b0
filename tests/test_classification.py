"""Classification: a tiny training run learns, a saved model reloads and predicts the same."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from smartlens.guide import Artwork, Detail, Guide, save_guide
from smartlens.methods import load_recognizer
from smartlens.methods.classification.params import ClassificationParams
from smartlens.methods.classification.recognizer import ClassificationRecognizer
from smartlens.methods.classification.train import calibrate_thresholds, class_names, train_classifier
from smartlens.synth import pictures
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
    result = train_classifier(toy_guide, settings, ClassificationParams(**TINY), progress=events.append)
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
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_outputs, atol=1e-4)
    out = rec.recognize(np.full((480, 640, 3), 128, np.uint8))
    assert out.method == "classification" and out.ms > 0


@needs_embedder
def test_frozen_features_route(toy_guide, settings):
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    result = train_classifier(toy_guide, settings, ClassificationParams(**TINY, frozen_features=True))
    assert result.metrics["top1_no_threshold"] > 60, result.metrics
    assert (result.model_dir / "head.npz").is_file()
    history = json.loads((result.model_dir / "metrics.json").read_text())["history"]
    assert set(history) == HISTORY_KEYS and len(history["val accuracy"]) == 60  # a head trains >= 60 epochs
    rec = ClassificationRecognizer(result.model_dir, settings, toy_guide)
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_outputs, atol=1e-4)


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
    params = ClassificationParams(**TINY, frozen_features=route == "frozen-features")
    result = train_classifier(toy_guide, settings, params, stop=stop)
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


# --- real negatives -------------------------------------------------------------------------------
def _picture(path, colour=(0, 0, 255), size=(300, 240)):
    img = np.zeros((size[1], size[0], 3), np.uint8)
    img[:] = colour
    cv2.circle(img, (size[0] // 2, size[1] // 2), size[1] // 4, (255, 255, 255), -1)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path


def test_negative_pictures_from_the_guide_folder_and_extra_dirs(toy_guide, tmp_path):
    import shutil

    from smartlens.errors import ImageError, UserError
    from smartlens.training.negatives import negative_pictures, negatives_dir, split_pictures

    guide = save_guide(
        toy_guide.guide,
        tmp_path / "g",
        files={a.image: toy_guide.path(a.image) for a in toy_guide.guide.artworks},
    )
    assert negative_pictures(guide) == []  # no negatives/ folder: none, no error
    own = _picture(negatives_dir(guide) / "room.jpg")
    (negatives_dir(guide) / "notes.txt").write_text("not a picture")
    extra = tmp_path / "extra"
    others = [_picture(extra / f"w{k}.png") for k in range(3)] + [_picture(extra / "sub" / "w9.webp")]
    _picture(extra / ".hidden" / "x.jpg")
    found = negative_pictures(guide, [extra])
    assert found == sorted(p.resolve() for p in [own, *others])
    with pytest.raises(UserError, match="does not exist"):
        negative_pictures(guide, [tmp_path / "missing"])
    (extra / "broken.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(ImageError, match="broken.jpg"):
        negative_pictures(guide, [extra])
    train, held = split_pictures(found)
    assert held and not set(train) & set(held) and sorted(train + held) == found
    assert split_pictures(found[:2]) == (found[:2], found[:2])  # too few to hold one out
    shutil.rmtree(extra)


def test_training_views_use_real_negatives_and_are_reused(toy_guide, settings, tmp_path):
    """The held-out set gets real negative pictures of its own; a second call reuses the views."""
    from smartlens.training.views import training_views, view_params

    extra = tmp_path / "others"
    for k in range(4):
        _picture(extra / f"p{k}.jpg", colour=(0, 0, 255 - 20 * k))
    small = {"per_image": 2, "val_per_image": 1, "negatives": 8, "val_negatives": 4, "workers": 1}
    params = ClassificationParams(**small, negative_dirs=(extra,))
    train_aug, held_aug = view_params(toy_guide, settings, params)
    assert len(train_aug.negative_pictures) == 3 and len(held_aug.negative_pictures) == 1
    assert not set(train_aug.negative_pictures) & set(held_aug.negative_pictures)
    views = training_views(toy_guide, settings, params)
    assert views.complete and views.negative_pictures == 4
    labels = [json.loads(p.read_text()) for p in sorted((views.train / "labels").glob("*.json"))]
    assert len(labels) == 3 * 2 + 6 * 2 + 8 and sum(rec["label"] is None for rec in labels) == 8
    again = training_views(toy_guide, settings, params)
    assert (again.train, again.held_out, again.complete) == (views.train, views.held_out, True)
    assert again.seconds < views.seconds


def test_augment_for_training_cli_names_the_folders_training_reads(
    toy_guide, settings, tmp_path, monkeypatch, capsys
):
    """``smartlens augment --for-training`` (what the studio's views job starts) makes the views in
    the folders ``train`` with the same options reads (the engine itself is faked here)."""
    from types import SimpleNamespace

    from smartlens import cli
    from smartlens.training import views as views_mod

    made = []

    def fake_generate(ref, out, aug, **kw):
        made.append(out)
        return SimpleNamespace(complete=True, made=0)

    monkeypatch.setattr(views_mod, "generate", fake_generate)
    extra = tmp_path / "others"
    _picture(extra / "p.jpg")
    argv = [
        "augment",
        "--guide",
        str(toy_guide.root),
        "--for-training",
        "--per-image",
        "5",
        "--negatives",
        "7",
    ]
    args = cli.build_parser().parse_args([*argv, "--negatives-dir", str(extra), "--seed", "3"])
    assert args.handler(args, settings) == 0
    out = capsys.readouterr().out
    train_aug, held_aug = views_mod.view_params(
        toy_guide, settings, ClassificationParams(per_image=5, negatives=7, seed=3, negative_dirs=(extra,))
    )
    expected = [views_mod.views_dir(toy_guide, a, settings) for a in (held_aug, train_aug)]
    assert made == expected
    assert f"training views: {expected[1]}" in out and f"held-out views: {expected[0]}" in out
    with pytest.raises(Exception, match="--out"):
        bare = cli.build_parser().parse_args(argv[:3])
        bare.handler(bare, settings)


def test_real_negative_frames_show_the_pictures(toy_guide, tmp_path):
    from smartlens.augment.engine import AugmentParams, SampleMaker, Task

    red = _picture(tmp_path / "red.jpg", colour=(0, 0, 255))
    maker = SampleMaker(
        toy_guide, AugmentParams(negatives=8, negative_pictures=(str(red),), real_negatives=1.0, max_side=320)
    )
    procedural = SampleMaker(toy_guide, AugmentParams(negatives=8, max_side=320))
    for k in range(6):
        task = Task(k, None, None)
        real = maker.make(task)
        assert real.label is None and not real.boxes
        b, g, r = (real.image[..., c].astype(int) for c in range(3))
        share = float(((r > 120) & (r > b + 60) & (r > g + 60)).mean())
        assert share > 0.15, share  # the red picture fills part of the frame (on a wall or cropped)
        assert not np.array_equal(real.image, procedural.make(task).image)


# --- the time budget, views included ---------------------------------------------------------------
#: Far more views than a 0.2-minute budget can make: the budget must cut them short.
MANY = {**TINY, "per_image": 300, "negatives": 600, "val_per_image": 20, "val_negatives": 40}


@needs_embedder
@pytest.mark.slow  # ~20-35 s here: TFLite features and a head, within a 0.2-minute budget
def test_budget_is_kept_with_views_included(toy_guide, settings):
    """Asked for 0.2 min, the whole job (views, features, training, saving) ends within 0.2 + 1
    min, on part of the views (a balanced part: every class has some)."""
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    t0 = time.monotonic()
    result = train_classifier(
        toy_guide, settings, ClassificationParams(**MANY, budget_minutes=0.2, frozen_features=True)
    )
    elapsed = time.monotonic() - t0
    assert elapsed < 0.2 * 60 + 60, elapsed
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["views"]["complete"] is False
    n_classes = len(class_names(toy_guide))
    full = 3 * 300 + 6 * 300 + 600
    assert n_classes <= info["train_samples"] < full
    from smartlens.augment.engine import read_labels

    labels = {rec["label"] for rec in read_labels(Path(info["views"]["train"]))}
    assert len(labels) == n_classes, labels  # the views made first are taken from every class


@pytest.mark.slow  # two fine-tuning runs (~1 min each here): building and tracing MobileNetV3 twice
def test_network_budget_kept_and_a_second_training_in_the_same_process(toy_guide, settings):
    """A training asked for 0.5 min ends within 1.5 min; a second one in the same process, on
    another thread (as a studio job runs), builds and trains too (no clash of layer names)."""
    params = ClassificationParams(**MANY, budget_minutes=0.5)
    results, errors, times = [], [], []

    def run() -> None:
        t0 = time.monotonic()
        try:
            results.append(train_classifier(toy_guide, settings, params))
        except Exception as exc:  # reported below: the thread must not swallow it
            errors.append(exc)
        times.append(time.monotonic() - t0)

    run()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert not errors, errors
    assert len(results) == 2 and results[0].model_dir != results[1].model_dir
    assert max(times) < 0.5 * 60 + 60, times
