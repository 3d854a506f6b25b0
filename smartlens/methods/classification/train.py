"""Fine-tune MobileNetV3 to classify a guide's artworks and details (plus a reject class).

Two routes, chosen by the weights and ``ClassificationParams.frozen_features``:

- fine-tuned: the whole MobileNetV3 is trained, starting from the weights available: Keras
  ImageNet weights, the TFLite embedder's weights copied into Keras, or none (from scratch);
- frozen features (a TFLite feature extractor and ``frozen_features``): its features are
  computed once and a small head is trained on them (seconds).

Training data come from the augmentation engine through :func:`.views.training_views` (cached,
so retraining reuses them); the reject class mixes procedural negatives with real pictures not
in the guide (:mod:`.negatives`). Held-out views and negatives (real pictures included)
calibrate a confidence threshold per class. With a time budget the whole job, views included,
ends within it (plus the time to save). The result is a versioned folder under
``models/<guide>/``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ...augment.engine import read_labels
from ...backbone import TFLiteEmbedder, WeightsInfo, build_mobilenet, freeze_batch_norm, resolve_weights
from ...config import Settings
from ...errors import UserError
from ...guide import GuideRef
from ...imaging import read_image
from ...model_store import new_model_dir
from ...progress import Progress, ProgressEvent, StopSignal, no_progress
from ...training.model_folder import ModelRecord, model_info, save_model
from ...training.open_set import gate_reserve
from ...training.views import TrainingViews, training_views
from ...vocabulary import REJECT, Method
from ..spec import TrainResult
from .params import ClassificationParams
from .recognizer import ClassificationRecognizer, head_probabilities

#: Share of the time budget kept for calibrating and saving once training has stopped...
SAVE_MARGIN = 0.05
#: ...but at least this many seconds (a quarter of the budget at most).
SAVE_MARGIN_S = 20.0
#: Share of the time budget that making training views may take (the rest trains).
VIEWS_SHARE = 0.35
#: One model built at a time in a process: Keras names layers from a per-thread counter.
_BUILD_LOCK = threading.Lock()


#: The curves a classifier keeps (its validation loss is not drawn).
CLASSIFIER_CURVES = ("accuracy", "val_accuracy", "loss")


def class_names(ref: GuideRef) -> list[str]:
    """Artworks, then 'artwork/detail', then the reject class."""
    names = [a.id for a in ref.guide.artworks]
    names += [f"{a.id}/{d.id}" for a in ref.guide.artworks for d in a.details]
    return names + [REJECT]


def load_samples(out: Path, classes: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, size, size, 3) RGB uint8, squashed like frames are at inference, and class indices."""
    index = {c: i for i, c in enumerate(classes)}
    records = read_labels(out)
    x = np.empty((len(records), size, size, 3), np.uint8)
    y = np.empty(len(records), np.int32)
    for i, rec in enumerate(records):
        img = read_image(out / rec["file"])
        x[i] = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        y[i] = index[rec["label"] or REJECT]
    return x, y


def calibrate_thresholds(
    probs: np.ndarray, y: np.ndarray, classes: list[str], negative_cost: float = 5.0, floor: float = 0.3
) -> np.ndarray:
    """Per class, the confidence above which accepting its predictions pays off most on held-out data.

    Each accepted right answer counts +1, a wrong class -1, and a negative (a wall, a visitor)
    taken for an artwork -``negative_cost``: showing something when nothing is framed is the
    worst answer a lens can give.
    """
    reject = classes.index(REJECT)
    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    thr = np.full(len(classes), 0.6, np.float32)
    grid = np.round(np.arange(floor, 0.995, 0.01), 3)
    for c in range(len(classes)):
        mine = top == c
        if c == reject or not mine.any():
            continue
        gain = [
            np.sum(mine & (conf >= t) & (y == c))
            - np.sum(mine & (conf >= t) & (y != c) & (y != reject))
            - negative_cost * np.sum(mine & (conf >= t) & (y == reject))
            for t in grid
        ]
        thr[c] = grid[int(np.argmax(gain))]  # argmax takes the lowest of equal gains
    return thr


def evaluate(probs: np.ndarray, y: np.ndarray, thresholds: np.ndarray, classes: list[str]) -> dict:
    """Top-1 (with thresholds: a rejected view counts as wrong) and false positives on negatives."""
    reject = classes.index(REJECT)
    top = probs.argmax(axis=1)
    accepted = (top != reject) & (probs.max(axis=1) >= thresholds[top])
    pred = np.where(accepted, top, reject)
    pos, neg = y != reject, y == reject
    return {
        "top1": round(float((pred[pos] == y[pos]).mean()) * 100, 1) if pos.any() else None,
        "top1_no_threshold": round(float((top[pos] == y[pos]).mean()) * 100, 1) if pos.any() else None,
        "negatives_fp": round(float((pred[neg] != reject).mean()) * 100, 1) if neg.any() else None,
        "views": int(pos.sum()),
        "negatives": int(neg.sum()),
    }


# --- the two routes ---------------------------------------------------------------------------
def _class_weights(y: np.ndarray, n: int) -> dict[int, float]:
    counts = np.bincount(y, minlength=n).astype(float)
    return {i: float(len(y) / (n * c)) if c else 1.0 for i, c in enumerate(counts)}


def _train_head(
    f_train: np.ndarray,
    y_train: np.ndarray,
    f_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    params: ClassificationParams,
    epochs: int,
    callbacks: list,
) -> tuple[dict[str, np.ndarray], dict]:
    """A small MLP on frozen features; returns its weights (numpy, the best epoch's) and the history."""
    import keras

    from ...training.callbacks import curves

    mean, std = f_train.mean(axis=0), f_train.std(axis=0) + 1e-6
    keras.utils.set_random_seed(params.seed)
    head = keras.Sequential(
        [
            keras.Input((f_train.shape[1],)),
            keras.layers.Dropout(0.2),
            keras.layers.Dense(256, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(n_classes, activation="softmax"),
        ]
    )
    head.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    x_train, x_val = (f_train - mean) / std, (f_val - mean) / std
    h = head.fit(
        x_train,
        y_train,
        batch_size=64,
        epochs=epochs,
        verbose=0,
        shuffle=True,
        class_weight=_class_weights(y_train, n_classes),
        validation_data=(x_val, y_val),
        callbacks=callbacks,
    )
    w1, b1, w2, b2 = head.get_weights()
    return {"mean": mean, "std": std, "w1": w1, "b1": b1, "w2": w2, "b2": b2}, curves(h, CLASSIFIER_CURVES)


def build_classifier(n_classes: int, weights: WeightsInfo, params: ClassificationParams) -> Any:
    """MobileNetV3 backbone + dropout + softmax over the guide's classes (input: RGB 0..255)."""
    import keras

    base = build_mobilenet(params.size, params.input_size, weights)
    if weights.pretrained:
        freeze_batch_norm(base)  # pretrained statistics stay; folded TFLite weights need it
    for layer in base.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # Keras' MobileNetV3 uses momentum 0.999: its running statistics would need thousands
            # of steps to leave their initial values, and a short CPU run would then be judged
            # (and used) with statistics that describe no real data.
            layer.momentum = 0.9
    inputs = keras.Input((params.input_size, params.input_size, 3), name="frame")
    x = base(inputs)
    x = keras.layers.Dropout(0.3)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="smartlens_classifier")


def _train_network(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    weights: WeightsInfo,
    params: ClassificationParams,
    epochs: int,
    callbacks: list,
) -> tuple[Any, dict]:
    """The whole MobileNetV3, fine-tuned; returns the model (best epoch's weights) and the history."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(params.seed)
    with _BUILD_LOCK:
        model = build_classifier(n_classes, weights, params)
    steps = max(1, len(x_train) // params.batch_size) * epochs
    if weights.pretrained:
        # pretrained features are easily wrecked: a tenth of the rate, reached after a warm-up
        # (at the full rate the first epoch's loss exploded to ~50 and never came back)
        peak = params.learning_rate * 0.1
        warmup = min(steps // 5, max(1, len(x_train) // params.batch_size))
        lr = keras.optimizers.schedules.CosineDecay(
            peak * 0.1, max(1, steps - warmup), warmup_target=peak, warmup_steps=warmup
        )
    else:
        lr = keras.optimizers.schedules.CosineDecay(params.learning_rate, steps, warmup_target=None)
    model.compile(
        keras.optimizers.AdamW(lr, weight_decay=1e-4),
        keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
    )

    def jitter(img, label):
        # light online changes on top of the augmented views: zoom-crop and exposure
        img = tf.cast(img, tf.float32)
        s = params.input_size
        scale = tf.random.uniform([], 0.85, 1.0)
        crop = tf.cast(tf.cast(s, tf.float32) * scale, tf.int32)
        img = tf.image.random_crop(img, [crop, crop, 3])
        img = tf.image.resize(img, [s, s])
        img = tf.image.random_brightness(img, 20.0)
        img = tf.image.random_contrast(img, 0.85, 1.15)
        return tf.clip_by_value(img, 0, 255), label

    from ...training.datasets import fit_datasets

    train, val = fit_datasets(x_train, y_train, x_val, y_val, jitter, params.batch_size, 64, params.seed)
    h = model.fit(
        train,
        epochs=epochs,
        verbose=0,
        class_weight=_class_weights(y_train, n_classes),
        validation_data=val,
        callbacks=callbacks,
    )
    from ...training.callbacks import curves

    return model, curves(h, CLASSIFIER_CURVES)


def _training_callbacks(
    epochs: int, deadline: float | None, stop: StopSignal | None, progress: Progress
) -> tuple[list, list]:
    """(every callback of a route's ``fit``, those among them that may end training early)."""
    from ...training.callbacks import ProgressReport, StopFlag, TimeBudget, keep_best

    stoppers = ([TimeBudget(deadline)] if deadline is not None else []) + ([StopFlag(stop)] if stop else [])
    return [keep_best(epochs), ProgressReport(progress, epochs, 0.3, 0.95), *stoppers], stoppers


def make_views(
    ref: GuideRef,
    settings: Settings,
    params: ClassificationParams,
    progress: Progress = no_progress,
    deadline: float | None = None,
) -> TrainingViews:
    """Make (or reuse) exactly the views a classification training with ``params`` reads."""
    return training_views(ref, settings, params, progress, deadline)


# --- the whole job ----------------------------------------------------------------------------
def train_classifier(
    ref: GuideRef,
    settings: Settings,
    params: ClassificationParams | None = None,
    progress: Progress = no_progress,
    stop: StopSignal | None = None,
) -> TrainResult:
    """Make data, train, calibrate and save a classification model for ``ref``'s guide.

    With ``params.budget_minutes`` the whole job ends within that time plus the time to save:
    making views may take :data:`VIEWS_SHARE` of it (a balanced part of them is made when they
    take longer; a later run completes them), training stops at the end of the batch that
    reaches the deadline, and a margin is kept for calibrating and saving. ``stop`` (e.g. a
    ``threading.Event``) ends training at the next batch when set; either way the best epoch so
    far is kept and saved.
    """
    params = params or ClassificationParams()
    t_start = time.monotonic()
    budget_s = params.budget_minutes * 60 if params.budget_minutes else None
    margin = min(0.25 * budget_s, max(SAVE_MARGIN * budget_s, SAVE_MARGIN_S)) if budget_s else 0.0
    margin += gate_reserve(settings, budget_s) if budget_s else 0.0
    deadline = t_start + budget_s - margin if budget_s else None
    classes = class_names(ref)

    views = make_views(
        ref,
        settings,
        params,
        progress=lambda e: progress(replace(e, fraction=0.25 * e.fraction)),
        deadline=t_start + VIEWS_SHARE * budget_s if budget_s else None,
    )
    x_train, y_train = load_samples(views.train, classes, params.input_size)
    x_val, y_val = load_samples(views.held_out, classes, params.input_size)
    if not len(x_train) or not len(x_val):
        raise UserError(
            f"no training views could be made within the budget of {params.budget_minutes} min: "
            "give training more time"
        )
    weights = resolve_weights(params.size, settings)

    staging, final = new_model_dir(ref.guide.name, Method.CLASSIFICATION, settings)
    if weights.is_tflite and params.frozen_features:
        embedder = TFLiteEmbedder(weights, settings.threads)
        progress(ProgressEvent("features", 0.26, "computing frozen features"))
        f_train = embedder.embed(x_train[:, :, :, ::-1])
        f_val = embedder.embed(x_val[:, :, :, ::-1])
        epochs = max(params.epochs, 60)  # a head's epoch takes milliseconds
        callbacks, stoppers = _training_callbacks(epochs, deadline, stop, progress)
        head, history = _train_head(f_train, y_train, f_val, y_val, len(classes), params, epochs, callbacks)
        probs = head_probabilities(head, f_val)
        # numpy's stubs type **kwds as its allow_pickle flag
        np.savez(staging / "head.npz", **head)  # type: ignore[arg-type]
        assert weights.path is not None  # a TFLite extractor is always a file
        route = {
            "route": "frozen-features",
            "embedder": str(weights.path),
            "embedder_sha256": _sha256(Path(weights.path)),
        }
    else:
        callbacks, stoppers = _training_callbacks(params.epochs, deadline, stop, progress)
        model, history = _train_network(
            x_train, y_train, x_val, y_val, len(classes), weights, params, params.epochs, callbacks
        )
        probs = np.concatenate(
            [
                model(x_val[i : i + 64].astype(np.float32), training=False).numpy()
                for i in range(0, len(x_val), 64)
            ]
        )
        model.save(staging / "model.keras")
        route = {"route": "fine-tuned", "backbone": f"mobilenet_v3_{params.size}"}
    stopped_early = any(s.stopped for s in stoppers)
    progress(ProgressEvent("calibrating", 0.97, "calibrating thresholds on held-out views"))
    thresholds = calibrate_thresholds(probs, y_val, classes)
    metrics = evaluate(probs, y_val, thresholds, classes)
    seconds = time.monotonic() - t_start
    info = {
        **model_info(Method.CLASSIFICATION, ref, seconds, stopped_early, weights, params, views),
        "input_size": params.input_size,
        "train_samples": int(len(y_train)),
        "val_samples": int(len(y_val)),
        **route,
    }
    save_model(
        staging,
        final,
        ref,
        settings,
        ModelRecord(classes, thresholds, metrics, history, info),
        views,
        lambda folder: ClassificationRecognizer(folder, settings, ref, use_gate=False),
        progress,
    )
    progress(ProgressEvent("done", 1.0, f"saved {final.name}", metrics))
    return TrainResult(
        final,
        metrics,
        seconds,
        stopped_early,
        history,
        probe_frames=np.ascontiguousarray(x_val[:8, :, :, ::-1]),
        probe_outputs=probs[:8],
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
