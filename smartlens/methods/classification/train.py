"""Fine-tune MobileNetV3 to classify a guide's artworks and details (plus a reject class).

Two routes, chosen by the weights and ``ClassificationParams.frozen_features``:

- fine-tuned: the whole MobileNetV3 is trained, starting from the weights available: Keras
  ImageNet weights, the TFLite embedder's weights copied into Keras, or none (from scratch);
- frozen features (a TFLite feature extractor and ``frozen_features``): its features are
  computed once and a small head is trained on them (seconds).

Training views come from the augmentation engine through
:func:`smartlens.training.views.training_views` (cached, so retraining reuses them); the reject
class mixes procedural negatives with real pictures not in the guide. Validation views, unlike
the training ones (:mod:`smartlens.training.unseen`), choose the best epoch, calibrate a
confidence threshold per class and the open-set gate; report views, never used for a choice,
give the figures. With a time budget the whole job, views included, ends within it. The result
is a versioned folder under ``models/<guide>/``.
"""

from __future__ import annotations

import hashlib
import threading
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
from ...progress import Progress, ProgressEvent, StopSignal, no_progress, within
from ...training.callbacks import CURVES, best_epoch, training_callbacks
from ...training.clock import Clock, TrainingCancelledError
from ...training.model_folder import ModelRecord, after_training_s, model_info
from ...training.small_views import small_views
from ...training.views import TrainingViews, count_views, training_views
from ...vocabulary import REJECT, Method
from ..inference import export_tflite
from ..open_set import complete_model
from ..spec import TrainResult
from .params import ClassificationParams
from .recognizer import ClassificationRecognizer, head_probabilities

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
    callbacks: list,
) -> tuple[dict[str, np.ndarray], dict]:
    """A small MLP on frozen features, with the form's epochs, batch size and learning rate;
    returns its weights (numpy, the best epoch's) and the history."""
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
    head.compile(
        keras.optimizers.Adam(params.learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    x_train, x_val = (f_train - mean) / std, (f_val - mean) / std
    h = head.fit(
        x_train,
        y_train,
        batch_size=params.batch_size,
        epochs=params.epochs,
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

    from ...training.datasets import fit_datasets, validation_dataset

    train = fit_datasets(x_train, y_train, jitter, params.batch_size, params.seed)
    val = validation_dataset(x_val, y_val)
    h = model.fit(
        train,
        epochs=epochs,
        verbose=0,
        class_weight=_class_weights(y_train, n_classes),
        validation_data=val,
        callbacks=callbacks,
        shuffle=False,  # the dataset shuffles itself
    )
    from ...training.callbacks import curves

    return model, curves(h, CLASSIFIER_CURVES)


def make_views(
    ref: GuideRef,
    settings: Settings,
    params: ClassificationParams,
    progress: Progress = no_progress,
    deadline: float | None = None,
    report_only: bool = False,
) -> TrainingViews:
    """Make (or reuse) exactly the views a classification training with ``params`` reads (see
    :func:`training_views` for ``report_only``)."""
    return training_views(ref, settings, params, progress, deadline, report_only=report_only)


def _probabilities(model: Any, x: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [model(x[i : i + 64].astype(np.float32), training=False).numpy() for i in range(0, len(x), 64)]
    )


# --- the whole job ----------------------------------------------------------------------------
def train_classifier(
    ref: GuideRef,
    settings: Settings,
    params: ClassificationParams | None = None,
    progress: Progress = no_progress,
    stop: StopSignal | None = None,
    started: float | None = None,
) -> TrainResult:
    """Make views, train, calibrate on the validation views, build the open-set gate, score the
    report views and save a classification model for ``ref``'s guide.

    With ``params.budget_minutes`` the whole job, counted from ``started`` (a ``time.time()``
    value; default now), ends within that time: making training views may take
    :data:`VIEWS_SHARE` of it (a balanced part of them is made when they take longer; a later run
    completes them), training stops at the end of the batch after which the rest would no
    longer fit, and what follows it has its time kept. ``stop`` (e.g. a ``threading.Event``)
    ends training at the next batch when set; the best epoch so far is kept and saved (without
    its gate and report, which a stop skips). A stop while views are made keeps nothing
    (:class:`~smartlens.training.clock.TrainingCancelledError`).
    """
    params = params or ClassificationParams()
    weights = resolve_weights(params.size, settings)
    if params.frozen_features and not weights.is_tflite:
        raise UserError(
            "'Train only a head on frozen features' needs a TFLite feature extractor as the weights "
            "(SMARTLENS_WEIGHTS): untick it to fine-tune the whole network"
        )
    clock = Clock(params.budget_minutes, started, stop)
    progress = clock.watch(progress)
    classes = class_names(ref)
    views = make_views(
        ref,
        settings,
        params,
        clock.cancellable(within(progress, 0.0, 0.25)),
        deadline=clock.at(VIEWS_SHARE),
    )
    if clock.stopping():
        raise TrainingCancelledError("cancelled while making views: no model was trained")
    progress(ProgressEvent("loading", 0.25, "reading the training and validation views"))
    x_train, y_train = load_samples(views.train, classes, params.input_size)
    x_val, y_val = load_samples(views.validation, classes, params.input_size)
    if not len(x_train) or not len(x_val):
        raise UserError(
            f"no training views could be made within the budget of {params.budget_minutes} min: "
            "give training more time"
        )
    small = small_views(
        x_train,
        np.flatnonzero(y_train != classes.index(REJECT)),
        y_train == classes.index(REJECT),
        params.seed,
    )
    x_train, y_train = (
        np.concatenate([x_train, small.images]),
        np.concatenate([y_train, y_train[small.sources]]),
    )
    frozen = params.frozen_features
    after_s = after_training_s(
        len(x_train), len(x_val), count_views(views.report), clock.budget_s, exported=not frozen
    )
    deadline = clock.before_end(after_s)

    staging, final = new_model_dir(ref.guide.name, Method.CLASSIFICATION, settings)
    if frozen:
        embedder = TFLiteEmbedder(weights, settings.threads)
        progress(
            ProgressEvent("loading", 0.27, f"computing frozen features of {len(x_train) + len(x_val)} views")
        )
        f_train = embedder.embed(x_train[:, :, :, ::-1])
        f_val = embedder.embed(x_val[:, :, :, ::-1])
        callbacks, stoppers = training_callbacks(params.epochs, deadline, stop, progress, clock, after_s)
        head, history = _train_head(f_train, y_train, f_val, y_val, len(classes), params, callbacks)
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
        progress(ProgressEvent("loading", 0.27, "building the network"))
        callbacks, stoppers = training_callbacks(params.epochs, deadline, stop, progress, clock, after_s)
        model, history = _train_network(
            x_train, y_train, x_val, y_val, len(classes), weights, params, params.epochs, callbacks
        )
        probs = _probabilities(model, x_val)
        model.save(staging / "model.keras")
        progress(ProgressEvent("calibrating", 0.905, "saving the network for the lens (TFLite)"))
        export_tflite(model, staging)
        route = {"route": "fine-tuned", "backbone": f"mobilenet_v3_{params.size}"}
    stopped_early = any(s.stopped for s in stoppers)
    progress(ProgressEvent("calibrating", 0.91, f"calibrating thresholds on {len(y_val)} validation views"))
    thresholds = calibrate_thresholds(probs, y_val, classes)
    validation = evaluate(probs, y_val, thresholds, classes)
    info = {
        **model_info(Method.CLASSIFICATION, ref, clock.elapsed(), stopped_early, weights, params, views),
        "input_size": params.input_size,
        "train_samples": int(len(y_train)),
        "val_samples": int(len(y_val)),
        **route,
    }
    record = ModelRecord(
        classes, thresholds, validation, history, info, best_epoch(history, CURVES["val_accuracy"])
    )
    metrics = complete_model(
        staging,
        final,
        ref,
        record,
        views,
        lambda folder, gate: ClassificationRecognizer(folder, settings, ref, use_gate=gate),
        within(progress, 0.92, 0.995),
        clock,
    )
    progress(ProgressEvent("done", 1.0, f"saved {final.name}"))
    return TrainResult(
        final,
        metrics,
        clock.elapsed(),
        stopped_early,
        history,
        probe_frames=np.ascontiguousarray(x_val[:8, :, :, ::-1]),
        probe_outputs=probs[:8],
    )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
