"""Train the SSD detector of a guide: every detail, and every artwork as a whole, is a class.

Views come from the augmentation engine through :func:`.views.training_views` (cached, so a
retraining reuses them), with each artwork's outline added as one more box; negatives are
procedural frames and views of real pictures that are not in the guide (:mod:`.negatives`),
whose frames teach the detector to draw no box there. Held-out views and
negatives give the mAP@0.5, the AP of each class and each class's threshold. The result is a
versioned folder under ``models/<guide>/detection-<time>/``.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ...augment.engine import read_labels
from ...backbone import WeightsInfo, resolve_weights
from ...config import Settings
from ...guide import Detail, GuideRef
from ...imaging import read_image
from ...model_store import new_model_dir
from ...progress import Progress, ProgressEvent, StopSignal, no_progress, within
from ...training.datasets import fit_datasets
from ...training.model_folder import ModelRecord, model_info, save_model
from ...training.open_set import gate_reserve
from ...training.views import TrainingViews, training_views
from ...vocabulary import Method
from ..spec import TrainResult
from .params import DetectionParams
from .recognizer import DetectionRecognizer
from .ssd.anchors import DEFAULT_LEVELS, levels_to_json, make_anchors
from .ssd.encoding import decode, match
from .ssd.metrics import calibrate_thresholds, evaluate, outcomes
from .ssd.selection import best_per_class

log = logging.getLogger("smartlens.training.detection")

BACKGROUND = "__background__"
#: The pseudo-detail that carries an artwork's outline through the augmentation engine.
OUTLINE = "__outline__"
#: Share of the time budget kept for evaluating, calibrating and saving after training, and the
#: share that making views may take at most (cached views take none on a retraining).
SAVE_MARGIN = 0.06
VIEWS_SHARE = 0.35
#: Epochs at least, when only the heads train (an epoch then takes seconds).
FROZEN_EPOCHS = 40


def class_names(ref: GuideRef) -> list[str]:
    """Background, the artworks (as wholes), then 'artwork/detail'."""
    names = [BACKGROUND] + [a.id for a in ref.guide.artworks]
    return names + [f"{a.id}/{d.id}" for a in ref.guide.artworks for d in a.details]


def with_outlines(ref: GuideRef) -> GuideRef:
    """The guide (in memory only) with each artwork's outline as one more detail box, so the
    engine's box-aware views carry the artwork's own box through every geometric change."""
    guide = copy.deepcopy(ref.guide)
    for art in guide.artworks:
        art.details.append(Detail(OUTLINE, (0, 0, art.width, art.height)))
    return replace(ref, guide=guide)


def _category_class(category: str, index: dict[str, int]) -> int | None:
    art, _, det = category.partition("/")
    return index.get(art if det == OUTLINE else category)


def load_views(out: Path, classes: list[str], size: int) -> tuple[np.ndarray, list[dict[int, np.ndarray]]]:
    """Engine views squashed to ``size`` (RGB uint8, as frames are at inference) and their true
    boxes: class -> corners normalised to 0..1."""
    index = {c: i for i, c in enumerate(classes)}
    records = read_labels(out)
    x = np.empty((len(records), size, size, 3), np.uint8)
    truths: list[dict[int, np.ndarray]] = []
    for i, rec in enumerate(records):
        img = read_image(out / rec["file"])
        x[i] = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        w, h = float(rec["width"]), float(rec["height"])
        truth = {}
        for b in rec["boxes"]:
            c = _category_class(b["category"], index)
            if c is not None:
                bx, by, bw, bh = b["bbox"]
                truth[c] = np.array([bx / w, by / h, (bx + bw) / w, (by + bh) / h], np.float32)
        truths.append(truth)
    return x, truths


def targets(truths: list[dict[int, np.ndarray]], anchors: np.ndarray) -> np.ndarray:
    """Per image and anchor: 4 offsets and the class (0 background, -1 ignored), float32."""
    y = np.zeros((len(truths), len(anchors), 5), np.float32)
    for i, truth in enumerate(truths):
        if truth:
            cls = np.array(list(truth), np.int32)
            offsets, labels = match(np.stack(list(truth.values())), cls, anchors)
            y[i, :, :4], y[i, :, 4] = offsets, labels
    return y


def detect_batch(
    model: Any, x: np.ndarray, anchors: np.ndarray, batch: int = 32
) -> tuple[np.ndarray, np.ndarray]:
    """(scores (N, C+1), boxes (N, C+1, 4)): each class's best box in each image."""
    scores, boxes = [], []
    for i in range(0, len(x), batch):
        out = model(x[i : i + batch].astype(np.float32), training=False).numpy()
        for o in out:
            z = o[:, 4:] - o[:, 4:].max(axis=1, keepdims=True)
            probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
            s, b = best_per_class(decode(o[:, :4], anchors), probs)
            scores.append(s)
            boxes.append(b)
    return np.array(scores, np.float32), np.array(boxes, np.float32)


def _features(backbone: Any, x: np.ndarray, batch: int = 32) -> list[np.ndarray]:
    """The frozen backbone's two feature maps of every image (float16, to halve the memory)."""
    parts: list[list[np.ndarray]] = [[], []]
    for i in range(0, len(x), batch):
        for part, out in zip(parts, backbone(x[i : i + batch].astype(np.float32), training=False)):
            part.append(np.asarray(out, np.float16))
    return [np.concatenate(p) for p in parts]


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    n_classes: int,
    params: DetectionParams,
    weights: WeightsInfo,
    epochs: int,
    frozen: bool,
    callbacks: list,
    progress: Progress,
) -> tuple[Any, dict]:
    """Train the detector; with ``frozen``, only its heads, on the backbone's features computed
    once (many epochs in the time one epoch of the whole network takes on a CPU)."""
    import keras
    import tensorflow as tf

    from .ssd.loss import detection_loss, positive_accuracy
    from .ssd.model import build_detector

    keras.utils.set_random_seed(params.seed)
    model = build_detector(n_classes, params.input_size, weights, params.size)
    # a model of its own over the same layers: what is saved (``model``) keeps no compile state,
    # which would name this module's loss when loaded
    inner = model.get_layer("heads") if frozen else model
    trained = keras.Model(inner.inputs, inner.outputs, name="trainer")
    steps = max(1, -(-len(x) // params.batch_size)) * epochs
    lr = keras.optimizers.schedules.CosineDecay(params.learning_rate, steps, alpha=0.05)
    trained.compile(
        keras.optimizers.AdamW(lr, weight_decay=1e-4, clipnorm=5.0),
        detection_loss(),
        metrics=[positive_accuracy],
    )
    if frozen:
        progress(ProgressEvent("features", 0.26, "computing the frozen backbone's features"))
        backbone = model.get_layer("backbone")
        f, f_val = _features(backbone, x), _features(backbone, x_val)
        half = lambda a, b: ((tf.cast(a[0], tf.float32), tf.cast(a[1], tf.float32)), b)  # noqa: E731
        train = (
            tf.data.Dataset.from_tensor_slices((tuple(f), y))
            .shuffle(len(x), seed=params.seed)
            .batch(params.batch_size)
            .map(half)
            .prefetch(2)
        )
        val = tf.data.Dataset.from_tensor_slices((tuple(f_val), y_val)).batch(64).map(half)
    else:

        def jitter(img: Any, target: Any) -> tuple[Any, Any]:
            # photometric only: a geometric change would move the boxes the targets were matched to
            img = tf.image.random_brightness(tf.cast(img, tf.float32), 20.0)
            img = tf.image.random_contrast(img, 0.85, 1.15)
            return tf.clip_by_value(img, 0, 255), target

        train, val = fit_datasets(x, y, x_val, y_val, jitter, params.batch_size, 32, params.seed)
    # the datasets shuffle themselves: Keras' own shuffle flag does not apply to them
    h = trained.fit(train, epochs=epochs, verbose=0, validation_data=val, callbacks=callbacks, shuffle=False)
    from ...training.callbacks import curves

    return model, curves(h)


def make_views(
    ref: GuideRef,
    settings: Settings,
    params: DetectionParams,
    progress: Progress = no_progress,
    deadline: float | None = None,
) -> TrainingViews:
    """Make (or reuse) exactly the views a detection training with ``params`` reads: the
    engine's box-aware views with each artwork's outline as one more box."""
    return training_views(
        with_outlines(ref), settings, params, progress, deadline, max_side=max(320, params.input_size)
    )


def train_detector(
    ref: GuideRef,
    settings: Settings,
    params: DetectionParams | None = None,
    progress: Progress = no_progress,
    stop: StopSignal | None = None,
) -> TrainResult:
    """Make views, train, evaluate, calibrate and save a detection model for ``ref``'s guide.

    With ``params.budget_minutes`` the whole job (views included) ends in about that time;
    ``stop`` (e.g. a ``threading.Event``) ends training at the next batch. Either way the
    epoch with the best held-out accuracy is kept.
    """
    params = params or DetectionParams()
    t_start = time.monotonic()
    budget_s = params.budget_minutes * 60 if params.budget_minutes else None
    deadline = (
        t_start + budget_s * (1 - SAVE_MARGIN) - 20 - gate_reserve(settings, budget_s) if budget_s else None
    )
    classes = class_names(ref)
    size = params.input_size
    views = make_views(
        ref,
        settings,
        params,
        within(progress, 0.0, 0.25),
        deadline=t_start + budget_s * VIEWS_SHARE if budget_s else None,
    )
    x, truths = load_views(views.train, classes, size)
    x_val, truths_val = load_views(views.held_out, classes, size)
    anchors = make_anchors(size, DEFAULT_LEVELS)
    y, y_val = targets(truths, anchors), targets(truths_val, anchors)

    from ...training.callbacks import ProgressReport, StopFlag, TimeBudget, keep_best

    weights = resolve_weights(params.size, settings)
    frozen = params.frozen_backbone and weights.pretrained
    epochs = max(params.epochs, FROZEN_EPOCHS) if frozen else params.epochs
    stoppers = ([TimeBudget(deadline)] if deadline is not None else []) + ([StopFlag(stop)] if stop else [])
    callbacks = [keep_best(epochs), ProgressReport(progress, epochs, 0.3, 0.93), *stoppers]
    model, history = _fit(
        x, y, x_val, y_val, len(classes) - 1, params, weights, epochs, frozen, callbacks, progress
    )
    stopped_early = any(s.stopped for s in stoppers)

    progress(ProgressEvent("calibrating", 0.95, "evaluating and calibrating on held-out views"))
    scores, boxes = detect_batch(model, x_val, anchors)
    negative = np.array([not t for t in truths_val])
    thresholds = calibrate_thresholds(scores, outcomes(boxes, truths_val)[0], negative)
    metrics = evaluate(scores, boxes, truths_val, negative, thresholds, classes)

    staging, final = new_model_dir(ref.guide.name, Method.DETECTION, settings)
    model.save(staging / "model.keras")
    seconds = time.monotonic() - t_start
    info = {
        **model_info(Method.DETECTION, ref, seconds, stopped_early, weights, params, views),
        "backbone": f"mobilenet_v3_{params.size}",
        "route": "frozen-backbone" if frozen else "fine-tuned",
        "input_size": size,
        "anchors": levels_to_json(DEFAULT_LEVELS),
        "train_samples": int(len(x)),
        "val_samples": int(len(x_val)),
    }
    save_model(
        staging,
        final,
        ref,
        settings,
        ModelRecord(classes, thresholds, metrics, history, info),
        views,
        lambda folder: DetectionRecognizer(folder, settings, ref, use_gate=False),
        progress,
    )
    progress(ProgressEvent("done", 1.0, f"saved {final.name}", {"map50": metrics["map50"] or 0.0}))
    return TrainResult(final, metrics, seconds, stopped_early, history)
