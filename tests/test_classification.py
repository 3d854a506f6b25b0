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
from smartlens.methods.inference import TFLiteModel
from smartlens.progress import ProgressEvent
from smartlens.synth import pictures
from smartlens.training.model_folder import AFTER_TRAINING_SHARE
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
    events: list = []
    result = train_classifier(toy_guide, settings, ClassificationParams(**TINY), progress=events.append)
    n_classes = len(class_names(toy_guide))
    chance = 100.0 / (n_classes - 1)
    validation = result.metrics["validation"]
    assert validation["top1_no_threshold"] > 2 * chance, validation
    assert 1 <= validation["best_epoch"] <= 12
    assert not result.stopped_early
    # every phase says where it is, in order, and when the job will be over
    stages = [e.stage for e in events]
    assert set(stages) >= {"data", "loading", "training", "calibrating", "gate", "report", "done"}
    order = ["data", "loading", "training", "calibrating", "gate", "report", "done"]
    assert [s for s in order if s in stages] == sorted(set(stages), key=order.index)
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert [e.message for e in events if e.stage == "training" and "batch" not in e.message][
        -1
    ] == "epoch 12/12"
    # the end announced: the budget's (20 minutes) until the epochs' pace says sooner
    assert all(e.ends_at is not None for e in events)
    assert events[0].ends_at - events[-1].ends_at > 10 * 60
    assert result.model_dir.parent == settings.models / "toy"
    files = {p.name for p in result.model_dir.iterdir()}
    assert {
        "model.keras",
        "classes.json",
        "thresholds.json",
        "metrics.json",
        "info.json",
        "gate.npz",
    } <= files
    assert "curve.png" not in files
    metrics = json.loads((result.model_dir / "metrics.json").read_text())
    assert set(metrics["history"]) == HISTORY_KEYS and all(len(v) == 12 for v in metrics["history"].values())
    assert metrics == result.metrics
    # three roles: the validation figures, the gate calibrated on them, the report's own figures
    assert (
        metrics["open_set_gate"]["available"]
        and metrics["open_set_gate"]["validation_views"] == 3 * 4 + 6 * 4
    )
    report = metrics["report"]
    # the report mixes views as the benchmark does: 13 whole views (4 x 10/3) per artwork, 4 close-ups per detail
    assert (
        report["views"] == 3 * 13 + 6 * 4 and report["negatives"] == 8 and report["artwork_top1"] is not None
    )
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["guide"] == "toy" and info["guide_fingerprint"] and info["weights"]["source"] == "random"
    assert info["route"] == "fine-tuned" and info["stopped_early"] is False
    assert len({info["views"][k] for k in ("train", "validation", "report")}) == 3
    # the lens runs the network saved as TFLite: the Keras model's outputs on validation views
    assert "model.tflite" in files
    rec = load_recognizer(toy_guide, settings, "classification")
    assert rec.model_dir == result.model_dir
    assert isinstance(rec._probs, TFLiteModel) and not hasattr(rec, "model")
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_outputs, atol=1e-4)
    out = rec.recognize(np.full((480, 640, 3), 128, np.uint8))
    assert out.method == "classification" and out.ms > 0
    # a model saved before its TFLite file existed runs in Keras, with the same outputs
    (result.model_dir / "model.tflite").unlink()
    rec = load_recognizer(toy_guide, settings, "classification")
    assert hasattr(rec, "model") and not isinstance(rec._probs, TFLiteModel)
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_outputs, atol=1e-4)


@needs_embedder
def test_frozen_features_route_honours_the_forms_epochs(toy_guide, settings):
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    result = train_classifier(toy_guide, settings, ClassificationParams(**TINY, frozen_features=True))
    assert result.metrics["validation"]["top1_no_threshold"] > 60, result.metrics["validation"]
    assert (result.model_dir / "head.npz").is_file()
    history = json.loads((result.model_dir / "metrics.json").read_text())["history"]
    assert set(history) == HISTORY_KEYS and len(history["val accuracy"]) == TINY["epochs"]  # as asked
    rec = ClassificationRecognizer(result.model_dir, settings, toy_guide)
    np.testing.assert_allclose(rec.probabilities(list(result.probe_frames)), result.probe_outputs, atol=1e-4)


def _stop_when(stage: str, stop: threading.Event, events: list):
    def progress(event):
        events.append(event)
        if event.stage == stage:
            stop.set()

    return progress


@pytest.mark.parametrize(
    "route",
    [
        pytest.param("fine-tuned", marks=pytest.mark.slow),  # ~1 min: building and tracing MobileNetV3
        pytest.param("frozen-features", marks=needs_embedder),
    ],
)
def test_a_stop_request_keeps_the_best_model_so_far_and_says_the_gate_was_skipped(toy_guide, settings, route):
    """Both routes share the callbacks: a stop asked for once the views are made ends training
    after one batch, and that model (its one validated epoch) is calibrated and saved all the
    same; its gate and report are skipped, with a note saying so."""
    if route == "frozen-features":
        settings = dataclasses.replace(settings, weights=EMBEDDER)
    stop, events = threading.Event(), []
    params = ClassificationParams(**TINY, frozen_features=route == "frozen-features")
    result = train_classifier(toy_guide, settings, params, _stop_when("loading", stop, events), stop=stop)
    assert result.stopped_early
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["route"] == route and info["stopped_early"] is True
    metrics = json.loads((result.model_dir / "metrics.json").read_text())
    assert all(len(v) == 1 for v in metrics["history"].values()), metrics["history"]
    assert metrics["open_set_gate"]["available"] is False
    assert "cancelled" in metrics["open_set_gate"]["why"] and "cancelled" in metrics["report"]["skipped"]
    assert not (result.model_dir / "gate.npz").exists()
    rec = load_recognizer(toy_guide, settings, "classification")
    assert rec.model_dir == result.model_dir


def test_a_stop_while_views_are_made_keeps_nothing(toy_guide, settings):
    from smartlens.model_store import list_models
    from smartlens.training.clock import TrainingCancelledError

    stop, events = threading.Event(), []
    with pytest.raises(TrainingCancelledError, match="no model"):
        train_classifier(
            toy_guide, settings, ClassificationParams(**TINY), _stop_when("data", stop, events), stop
        )
    assert list_models("toy", settings) == []


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
    train, validation, report = split_pictures(found)
    assert validation and report and sorted(train + validation + report) == found
    assert (
        not set(train) & set(validation)
        and not set(train) & set(report)
        and not set(validation) & set(report)
    )
    assert split_pictures(found[:2]) == (found[:2],) * 3  # too few to set some apart: every role uses them
    shutil.rmtree(extra)


def test_check_negatives_are_shown_by_the_report_alone(toy_guide, settings, tmp_path):
    """Pictures in a ``check/`` sub-folder of a negatives folder go to the report views only,
    whatever the number of the others (with fewer than three, those serve every role)."""
    from smartlens.methods.classification.params import ClassificationParams
    from smartlens.training.negatives import CHECK_DIR, negative_roles, negatives_dir
    from smartlens.training.views import view_params

    guide = save_guide(
        toy_guide.guide,
        tmp_path / "g",
        files={a.image: toy_guide.path(a.image) for a in toy_guide.guide.artworks},
    )
    room = _picture(negatives_dir(guide) / "room.jpg").resolve()
    kept = _picture(negatives_dir(guide) / CHECK_DIR / "other-work.jpg").resolve()
    extra = tmp_path / "extra"
    also = _picture(extra / CHECK_DIR / "another.png").resolve()
    assert negative_roles(guide) == ([room], [room], [room, kept])
    assert negative_roles(guide, [extra]) == ([room], [room], [room, also, kept])
    train, validation, report = view_params(guide, settings, ClassificationParams(negative_dirs=(extra,)))
    assert set(train.negative_pictures) == set(validation.negative_pictures) == {str(room)}
    assert set(report.negative_pictures) == {str(room), str(kept), str(also)}


def test_training_views_use_real_negatives_and_are_reused(toy_guide, settings, tmp_path):
    """Each role gets real negative pictures of its own; a second call reuses the views."""
    from smartlens.training.views import training_views, view_params

    extra = tmp_path / "others"
    for k in range(4):
        _picture(extra / f"p{k}.jpg", colour=(0, 0, 255 - 20 * k))
    small = {"per_image": 2, "val_per_image": 1, "negatives": 8, "val_negatives": 4, "workers": 1}
    params = ClassificationParams(**small, negative_dirs=(extra,))
    train_aug, validation, report = view_params(toy_guide, settings, params)
    assert len(train_aug.negative_pictures) == 2
    assert len(validation.negative_pictures) == 1 and len(report.negative_pictures) == 1
    roles = [
        set(train_aug.negative_pictures),
        set(validation.negative_pictures),
        set(report.negative_pictures),
    ]
    assert not (roles[0] & roles[1] or roles[0] & roles[2] or roles[1] & roles[2])
    views = training_views(toy_guide, settings, params)
    assert views.complete and views.negative_pictures == 4
    labels = [json.loads(p.read_text()) for p in sorted((views.train / "labels").glob("*.json"))]
    assert len(labels) == 3 * 2 + 6 * 2 + 8 and sum(rec["label"] is None for rec in labels) == 8
    again = training_views(toy_guide, settings, params)
    assert (again.train, again.validation, again.report, again.complete) == (
        views.train,
        views.validation,
        views.report,
        True,
    )
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

    def fake_unseen(ref, settings, params, progress, deadline):
        made.append(params.role)
        return tmp_path / params.role, True

    monkeypatch.setattr(views_mod, "make_unseen", fake_unseen)
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
    train_aug, _, _ = views_mod.view_params(
        toy_guide, settings, ClassificationParams(per_image=5, negatives=7, seed=3, negative_dirs=(extra,))
    )
    expected = views_mod.views_dir(toy_guide, train_aug, settings)
    assert made == ["validation", "report", expected]
    assert f"training views: {expected}" in out and "validation views (every choice): " in out
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
@pytest.mark.slow  # ~7 s here: TFLite features and a head, within a 0.2-minute budget
def test_budget_is_kept_with_views_included(toy_guide, settings):
    """Asked for 0.2 min, the whole job (views, features, training, saving) ends within the
    budget (a share of it as tolerance), on part of the views (a balanced part: every class has
    some)."""
    settings = dataclasses.replace(settings, weights=EMBEDDER)
    t0, started, events = time.monotonic(), time.time(), []
    result = train_classifier(
        toy_guide,
        settings,
        ClassificationParams(**MANY, budget_minutes=0.2, frozen_features=True),
        lambda e: events.append((time.time(), e)),
        started=started,
    )
    elapsed = time.monotonic() - t0
    # The budget bounds the whole job. Tolerance: what follows the last batch (calibrating, gate,
    # report) has its time reserved from an estimate capped at AFTER_TRAINING_SHARE of the budget;
    # on this shared machine, whose speed varies 2x between runs, it may take twice its share.
    # Measured: 7.1 and 7.3 s (two runs, 2 cores shared with other work).
    assert elapsed < 0.2 * 60 * (1 + AFTER_TRAINING_SHARE), elapsed
    # the time left announced is never more than what remains of the budget (none once it is spent)
    budget_end = started + 0.2 * 60
    assert events and all(e.ends_at is not None and e.ends_at <= max(budget_end, t) + 0.5 for t, e in events)
    info = json.loads((result.model_dir / "info.json").read_text())
    assert info["views"]["complete"] is False
    n_classes = len(class_names(toy_guide))
    full = 3 * 300 + 6 * 300 + 600
    assert n_classes <= info["train_samples"] < full
    from smartlens.augment.engine import read_labels

    labels = {rec["label"] for rec in read_labels(Path(info["views"]["train"]))}
    assert len(labels) == n_classes, labels  # the views made first are taken from every class


def _unshortenable_s(events: list[tuple[float, ProgressEvent]]) -> float:
    """Seconds of a fine-tuning no budget can shorten, from its own progress events: building
    and tracing the network up to the end of its first batch, and exporting it to TFLite."""

    def at(pred) -> float:
        return next(t for t, e in events if pred(e))

    build = at(lambda e: e.stage == "training") - at(lambda e: e.message == "building the network")
    export = at(lambda e: e.message.startswith("calibrating thresholds")) - at(
        lambda e: e.message.startswith("saving the network for the lens")
    )
    return build + export


@pytest.mark.slow  # two fine-tuning runs (~1.5 min each here): building and tracing MobileNetV3 twice
def test_network_budget_kept_and_a_second_training_in_the_same_process(toy_guide, settings):
    """Asked for 0.5 min, a fine-tuning stops early and keeps its budget, apart from what no
    budget can shorten (building and tracing the network before its first batch, exporting it to
    TFLite after), measured in the same run; a second one in the same process, on another thread
    (as a studio job runs), builds and trains too (no clash of layer names)."""
    params = ClassificationParams(**MANY, budget_minutes=0.5)
    results, errors, times, fixed = [], [], [], []

    def run() -> None:
        t0, events = time.monotonic(), []

        def on_event(event: ProgressEvent) -> None:
            events.append((time.monotonic(), event))

        try:
            results.append(train_classifier(toy_guide, settings, params, on_event))
            fixed.append(_unshortenable_s(events))
        except Exception as exc:  # reported below: the thread must not swallow it
            errors.append(exc)
        times.append(time.monotonic() - t0)

    run()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    assert not errors, errors
    assert len(results) == 2 and results[0].model_dir != results[1].model_dir
    assert all(r.stopped_early for r in results)  # 12 epochs on all the views would not fit
    # Tolerance: the budget's after-training share (the last batch may end just before the
    # deadline, and what follows has only an estimate's time kept). Measured on 2026-12-05: 82 s
    # in all, of which 46 s building and tracing and 20 s exporting, so 16 s on the budget's 30.
    kept = [t - f for t, f in zip(times, fixed)]
    assert max(kept) < 0.5 * 60 * (1 + AFTER_TRAINING_SHARE), (times, fixed)
