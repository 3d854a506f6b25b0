"""Fine-tune MobileNetV3 to classify a guide's artworks and details (plus a reject class).

Two routes, chosen by the weights available (see :mod:`smartlens.backbone`):

- Keras weights (ImageNet, or none at all): the whole MobileNetV3 is trained, from ImageNet
  weights when available and from scratch otherwise.
- a TFLite feature extractor (MediaPipe's Image Embedder): its frozen features are computed
  once and a small head is trained on them (seconds, and the strongest route on a CPU).

Training data come from the augmentation engine (cached, so retraining reuses them); the
held-out views and negatives calibrate a confidence threshold per class. The result is a
versioned folder under ``models/<guide>/``.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from ..augment.engine import AugmentParams, generate, read_labels
from ..backbone import TFLiteEmbedder, WeightsInfo, build_mobilenet, resolve_weights
from ..config import Settings, get_settings
from ..guide_store import GuideRef, fingerprint
from ..model_store import INFO, new_model_dir
from ..storage import atomic_write_json
from ..recognition.classification import head_probabilities
from .curve import save_curve

REJECT = "__reject__"


@dataclass(frozen=True)
class TrainParams:
    epochs: int = 30
    size: str = "small"  # MobileNetV3 small or large
    budget_minutes: float | None = None  # stop in time, keeping the best model so far
    per_image: int = 80  # training views per artwork, and close-ups per detail
    val_per_image: int = 8
    negatives: int = 400  # frames with no artwork: the reject class
    val_negatives: int = 100
    preset: str = "medium"
    input_size: int = 224
    batch_size: int = 32
    learning_rate: float = 2e-3
    seed: int = 0
    workers: int | None = None


@dataclass
class TrainEvent:
    """A progress report: which stage, how far (0..1), and the latest metrics."""

    stage: str  # "data", "features", "training", "calibrating", "done"
    fraction: float
    message: str
    metrics: dict = field(default_factory=dict)


@dataclass
class TrainResult:
    model_dir: Path
    metrics: dict
    seconds: float
    stopped_early: bool
    #: A few held-out frames (BGR) and the in-memory model's probabilities for them, so a
    #: reloaded model can be checked against the one that was trained.
    probe_frames: np.ndarray | None = None
    probe_probs: np.ndarray | None = None


Progress = Callable[[TrainEvent], None]


def class_names(ref: GuideRef) -> list[str]:
    """Artworks, then 'artwork/detail', then the reject class."""
    names = [a.id for a in ref.guide.artworks]
    names += [f"{a.id}/{d.id}" for a in ref.guide.artworks for d in a.details]
    return names + [REJECT]


def _data_dir(ref: GuideRef, params: AugmentParams, settings: Settings) -> Path:
    key = hashlib.sha256(json.dumps([fingerprint(ref.guide, ref.root, visual_only=True), asdict(params)],
                                    sort_keys=True, default=str).encode()).hexdigest()[:12]
    return settings.cache / "train-data" / ref.guide.name / key


def load_samples(out: Path, classes: list[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, size, size, 3) RGB uint8, squashed like frames are at inference, and class indices."""
    index = {c: i for i, c in enumerate(classes)}
    records = read_labels(out)
    x = np.empty((len(records), size, size, 3), np.uint8)
    y = np.empty(len(records), np.int32)
    for i, rec in enumerate(records):
        img = cv2.imread(str(out / rec["file"]))
        x[i] = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        y[i] = index[rec["label"] or REJECT]
    return x, y


def calibrate_thresholds(probs: np.ndarray, y: np.ndarray, classes: list[str], negative_cost: float = 5.0,
                         floor: float = 0.3) -> np.ndarray:
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
        gain = [np.sum(mine & (conf >= t) & (y == c)) - np.sum(mine & (conf >= t) & (y != c) & (y != reject))
                - negative_cost * np.sum(mine & (conf >= t) & (y == reject)) for t in grid]
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
        "views": int(pos.sum()), "negatives": int(neg.sum()),
    }


# --- the two routes ---------------------------------------------------------------------------
class _Stopper:
    """Stops training at the budget, on request, and keeps the best weights seen."""

    def __init__(self, deadline: float | None, stop: threading.Event | None):
        self.deadline, self.stop = deadline, stop
        self.epoch_seconds = 0.0
        self.stopped_early = False

    def should_stop(self) -> bool:
        if self.stop is not None and self.stop.is_set():
            return True
        return self.deadline is not None and time.monotonic() + self.epoch_seconds > self.deadline


def _train_head(f_train, y_train, f_val, y_val, n_classes, params, stopper, report) -> tuple[dict, dict]:
    """A small MLP on frozen features; returns its weights (numpy) and the history."""
    import keras

    mean, std = f_train.mean(axis=0), f_train.std(axis=0) + 1e-6
    keras.utils.set_random_seed(params.seed)
    head = keras.Sequential([
        keras.Input((f_train.shape[1],)),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(n_classes, activation="softmax"),
    ])
    head.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    weights = _class_weights(y_train, n_classes)
    x_train, x_val = (f_train - mean) / std, (f_val - mean) / std
    best, history = _epochs(
        head, max(params.epochs, 60),
        lambda: head.fit(x_train, y_train, batch_size=64, epochs=1, verbose=0, class_weight=weights, shuffle=True),
        lambda: float(np.mean(head(x_val, training=False).numpy().argmax(1) == y_val)), stopper, report)
    w1, b1, w2, b2 = best
    return {"mean": mean, "std": std, "w1": w1, "b1": b1, "w2": w2, "b2": b2}, history


def _epochs(model, epochs: int, fit_epoch: Callable, val_accuracy: Callable[[], float], stopper: _Stopper,
            report: Callable) -> tuple[list[np.ndarray], dict[str, list[float]]]:
    """Train epoch by epoch; returns the weights of the best held-out epoch and the history."""
    history: dict[str, list[float]] = {"train accuracy": [], "val accuracy": [], "train loss": []}
    best, best_acc = model.get_weights(), -1.0
    for epoch in range(epochs):
        t0 = time.monotonic()
        h = fit_epoch()
        val_acc = val_accuracy()
        history["train accuracy"].append(float(h.history["accuracy"][0]))
        history["train loss"].append(float(h.history["loss"][0]))
        history["val accuracy"].append(val_acc)
        if val_acc > best_acc:
            best_acc, best = val_acc, [w.copy() for w in model.get_weights()]
        stopper.epoch_seconds = time.monotonic() - t0
        report(epoch + 1, epochs, {"val_accuracy": round(val_acc, 4), "loss": round(history["train loss"][-1], 4)})
        if stopper.should_stop():
            stopper.stopped_early = epoch + 1 < epochs
            break
    return best, history


def _class_weights(y: np.ndarray, n: int) -> dict[int, float]:
    counts = np.bincount(y, minlength=n).astype(float)
    return {i: float(len(y) / (n * c)) if c else 1.0 for i, c in enumerate(counts)}


def build_classifier(n_classes: int, weights: WeightsInfo, params: TrainParams):
    """MobileNetV3 backbone + dropout + softmax over the guide's classes (input: RGB 0..255)."""
    import keras

    base = build_mobilenet(params.size, params.input_size, weights)
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


def _train_network(x_train, y_train, x_val, y_val, n_classes, weights, params, stopper, report):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(params.seed)
    model = build_classifier(n_classes, weights, params)
    steps = max(1, len(x_train) // params.batch_size) * params.epochs
    lr = keras.optimizers.schedules.CosineDecay(params.learning_rate * (0.5 if weights.pretrained else 1.0), steps,
                                                warmup_target=None)
    model.compile(keras.optimizers.AdamW(lr, weight_decay=1e-4),
                  keras.losses.SparseCategoricalCrossentropy(), metrics=["accuracy"])

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

    train = (tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=params.seed)
             .map(jitter, num_parallel_calls=2).batch(params.batch_size).prefetch(2))
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).map(
        lambda a, b: (tf.cast(a, tf.float32), b)).batch(64)
    weights_cw = _class_weights(y_train, n_classes)

    class Hook(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if stopper.stop is not None and stopper.stop.is_set():
                self.model.stop_training = True

    best, history = _epochs(
        model, params.epochs,
        lambda: model.fit(train, epochs=1, verbose=0, class_weight=weights_cw, callbacks=[Hook()]),
        lambda: float(model.evaluate(val, verbose=0)[1]), stopper, report)
    model.set_weights(best)
    return model, history


# --- the whole job ----------------------------------------------------------------------------
def train_classifier(ref: GuideRef, params: TrainParams | None = None, settings: Settings | None = None,
                     progress: Progress | None = None, stop: threading.Event | None = None) -> TrainResult:
    """Make data, train, calibrate and save a classification model for ``ref``'s guide."""
    params = params or TrainParams()
    settings = settings or get_settings()
    t_start = time.monotonic()
    deadline = t_start + params.budget_minutes * 60 if params.budget_minutes else None
    say = progress or (lambda e: None)
    classes = class_names(ref)

    def data(seed: int, per_image: int, negatives: int, label: str, lo: float, hi: float) -> Path:
        aug = AugmentParams(per_image=per_image, preset=params.preset, negatives=negatives, seed=seed, max_side=320)
        out = _data_dir(ref, aug, settings)
        generate(ref, out, aug, workers=params.workers,
                 progress=lambda d, t, m: say(TrainEvent("data", lo + (hi - lo) * d / max(1, t),
                                                         f"{label}: {d}/{t} views")))
        return out

    train_dir = data(params.seed * 2 + 100, params.per_image, params.negatives, "training views", 0.0, 0.2)
    val_dir = data(params.seed * 2 + 101, params.val_per_image, params.val_negatives, "held-out views", 0.2, 0.25)
    x_train, y_train = load_samples(train_dir, classes, params.input_size)
    x_val, y_val = load_samples(val_dir, classes, params.input_size)
    weights = resolve_weights(params.size, settings)
    stopper = _Stopper(deadline - 0.05 * (params.budget_minutes or 0) * 60 if deadline else None, stop)

    def report(epoch: int, epochs: int, metrics: dict) -> None:
        say(TrainEvent("training", 0.3 + 0.65 * epoch / epochs, f"epoch {epoch}/{epochs}", metrics))

    staging, final = new_model_dir(ref.guide.name, "classification", settings)
    if weights.is_tflite:
        embedder = TFLiteEmbedder(weights, settings.threads)
        say(TrainEvent("features", 0.26, "computing frozen features"))
        f_train = embedder.embed(x_train[:, :, :, ::-1])
        f_val = embedder.embed(x_val[:, :, :, ::-1])
        head, history = _train_head(f_train, y_train, f_val, y_val, len(classes), params, stopper, report)
        probs = head_probabilities(head, f_val)
        np.savez(staging / "head.npz", **head)
        route = {"route": "frozen-features", "embedder": str(weights.path),
                 "embedder_sha256": _sha256(Path(weights.path))}
    else:
        model, history = _train_network(x_train, y_train, x_val, y_val, len(classes), weights, params, stopper, report)
        probs = np.concatenate([model(x_val[i:i + 64].astype(np.float32), training=False).numpy()
                                for i in range(0, len(x_val), 64)])
        model.save(staging / "model.keras")
        route = {"route": "fine-tuned", "backbone": f"mobilenet_v3_{params.size}"}
    say(TrainEvent("calibrating", 0.97, "calibrating thresholds on held-out views"))
    thresholds = calibrate_thresholds(probs, y_val, classes)
    metrics = evaluate(probs, y_val, thresholds, classes)
    seconds = time.monotonic() - t_start
    info = {
        "method": "classification", "guide": ref.guide.name,
        "guide_fingerprint": fingerprint(ref.guide, ref.root, visual_only=True),
        "created": time.time(), "seconds": round(seconds, 1), "stopped_early": stopper.stopped_early,
        "weights": {"source": weights.source, "path": str(weights.path) if weights.path else None,
                    "pretrained": weights.pretrained},
        "input_size": params.input_size, "params": asdict(params), "train_samples": int(len(y_train)),
        "val_samples": int(len(y_val)), **route,
    }
    atomic_write_json(staging / "classes.json", classes)
    atomic_write_json(staging / "thresholds.json", {c: float(t) for c, t in zip(classes, thresholds)})
    atomic_write_json(staging / "metrics.json", {"held_out": metrics, "history": history})
    save_curve(staging / "curve.png", {k: v for k, v in history.items() if "accuracy" in k},
               f"{ref.guide.name}: classification ({route['route']}, {weights.source} weights)")
    atomic_write_json(staging / INFO, info)
    os.replace(staging, final)
    say(TrainEvent("done", 1.0, f"saved {final.name}", metrics))
    return TrainResult(final, metrics, seconds, stopper.stopped_early,
                       np.ascontiguousarray(x_val[:8, :, :, ::-1]), probs[:8])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

