"""Train the SSD detector of a guide: every detail, and every artwork as a whole, is a class.

Training views come from the augmentation engine through
:func:`smartlens.training.views.training_views` (cached, so a retraining reuses them), with each
artwork's outline added as one more box; negatives are procedural frames and views of real
pictures that are not in the guide, whose frames teach the detector to draw no box there.
Validation views unlike the training ones (:mod:`smartlens.training.unseen`) choose the best
epoch (by mAP@0.5) and each class's threshold and calibrate the open-set gate; report views give
the figures. The result is a versioned folder under ``models/<guide>/detection-<time>/``.
"""

from __future__ import annotations

import copy
import logging
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
from ...training.callbacks import CURVES, best_epoch, curves, training_callbacks
from ...training.clock import Clock, TrainingCancelledError
from ...training.datasets import fit_datasets
from ...training.model_folder import ModelRecord, after_training_s, model_info
from ...training.small_views import small_views
from ...training.views import TrainingViews, count_views, training_views
from ...vocabulary import Method
from ..inference import export_tflite
from ..open_set import complete_model
from ..spec import TrainResult
from .params import DetectionParams
from .recognizer import DetectionRecognizer
from .ssd.anchors import DEFAULT_LEVELS, levels_to_json, make_anchors
from .ssd.encoding import match
from .ssd.metrics import calibrate_thresholds, evaluate, outcomes
from .ssd.selection import best_of_outputs

log = logging.getLogger("smartlens.training.detection")

BACKGROUND = "__background__"
#: The pseudo-detail that carries an artwork's outline through the augmentation engine.
OUTLINE = "__outline__"
#: The share of the time budget that making views may take at most (cached views take none on a
#: retraining).
VIEWS_SHARE = 0.35


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
    parts = [
        best_of_outputs(model(x[i : i + batch].astype(np.float32), training=False).numpy(), anchors)
        for i in range(0, len(x), batch)
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


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
    truths_val: list[dict[int, np.ndarray]],
    classes: list[str],
    anchors: np.ndarray,
    params: DetectionParams,
    weights: WeightsInfo,
    frozen: bool,
    progress: Progress,
    clock: Clock,
    after_s: float,
) -> tuple[Any, dict, bool]:
    """Train the detector (its heads only with ``frozen``: on the backbone's features computed
    once, many epochs in the time one epoch of the whole network takes on a CPU); the model with
    its best epoch's weights, the history, and whether training ended early."""
    import keras
    import tensorflow as tf

    from .ssd.loss import detection_loss, positive_accuracy
    from .ssd.model import build_detector

    progress(ProgressEvent("loading", 0.26, "building the network"))
    keras.utils.set_random_seed(params.seed)
    model = build_detector(len(classes) - 1, params.input_size, weights, params.size)
    # a model of its own over the same layers: what is saved (``model``) keeps no compile state,
    # which would name this module's loss when loaded
    inner = model.get_layer("heads") if frozen else model
    trained = keras.Model(inner.inputs, inner.outputs, name="trainer")
    steps = max(1, -(-len(x) // params.batch_size)) * params.epochs
    lr = keras.optimizers.schedules.CosineDecay(params.learning_rate, steps, alpha=0.05)
    trained.compile(
        keras.optimizers.AdamW(lr, weight_decay=1e-4, clipnorm=5.0),
        detection_loss(),
        metrics=[positive_accuracy],
    )
    val_inputs: Any = x_val
    if frozen:
        progress(
            ProgressEvent(
                "loading", 0.27, f"computing the frozen backbone's features of {len(x) + len(x_val)} views"
            )
        )
        backbone = model.get_layer("backbone")
        f = _features(backbone, x)
        val_inputs = _features(backbone, x_val)
        half = lambda a, b: ((tf.cast(a[0], tf.float32), tf.cast(a[1], tf.float32)), b)  # noqa: E731
        train = (
            tf.data.Dataset.from_tensor_slices((tuple(f), y))
            .shuffle(len(x), seed=params.seed)
            .batch(params.batch_size)
            .map(half)
            .prefetch(2)
        )
    else:

        def jitter(img: Any, target: Any) -> tuple[Any, Any]:
            # photometric only: a geometric change would move the boxes the targets were matched to
            img = tf.image.random_brightness(tf.cast(img, tf.float32), 20.0)
            img = tf.image.random_contrast(img, 0.85, 1.15)
            return tf.clip_by_value(img, 0, 255), target

        train = fit_datasets(x, y, jitter, params.batch_size, params.seed)
    callbacks, stoppers = training_callbacks(
        params.epochs,
        clock.before_end(after_s),
        clock.stop,
        progress,
        clock,
        after_s,
        monitor="val_map50",
        before=[_validation_map(val_inputs, truths_val, anchors, classes)],
    )
    # the datasets shuffle themselves: Keras' own shuffle flag does not apply to them
    h = trained.fit(train, epochs=params.epochs, verbose=0, callbacks=callbacks, shuffle=False)
    return model, curves(h), any(s.stopped for s in stoppers)


def make_views(
    ref: GuideRef,
    settings: Settings,
    params: DetectionParams,
    progress: Progress = no_progress,
    deadline: float | None = None,
    report_only: bool = False,
) -> TrainingViews:
    """Make (or reuse) exactly the views a detection training with ``params`` reads: the
    engine's box-aware views with each artwork's outline as one more box (see
    :func:`training_views` for ``report_only``)."""
    return training_views(
        with_outlines(ref),
        settings,
        params,
        progress,
        deadline,
        max_side=max(320, params.input_size),
        report_only=report_only,
    )


def _validation_map(
    inputs: Any, truths: list[dict[int, np.ndarray]], anchors: np.ndarray, names: list[str]
) -> Any:
    """A Keras callback that computes the detector's mAP@0.5 on the validation views at each
    epoch's end (``logs["val_map50"]``, 0..1): what the best epoch is chosen on, since accuracy
    over matched anchors ignores false boxes. ``inputs`` are what the trained model takes (the
    frames, or the frozen backbone's feature maps)."""
    import keras

    negative = np.array([not t for t in truths])
    n = len(truths)

    class ValidationMap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            outputs = []
            for i in range(0, n, 32):
                batch = (
                    [a[i : i + 32].astype(np.float32) for a in inputs]
                    if isinstance(inputs, list)
                    else inputs[i : i + 32].astype(np.float32)
                )
                outputs.append(np.asarray(self.model(batch, training=False)))
            scores, boxes = best_of_outputs(np.concatenate(outputs), anchors)
            found = evaluate(scores, boxes, truths, negative, np.ones(len(names), np.float32), names)
            if logs is not None:
                logs["val_map50"] = (found["map50"] or 0.0) / 100

    return ValidationMap()


def _boxes_known(folder: Path) -> np.ndarray:
    """Per view of a folder: whether its boxes are known (a check photo's are not)."""
    return np.array([bool(r.get("boxes_known", True)) for r in read_labels(folder)], bool)


def train_detector(
    ref: GuideRef,
    settings: Settings,
    params: DetectionParams | None = None,
    progress: Progress = no_progress,
    stop: StopSignal | None = None,
    started: float | None = None,
) -> TrainResult:
    """Make views, train, calibrate on the validation views, build the open-set gate, score the
    report views and save a detection model for ``ref``'s guide.

    The loss is normalised by the matched anchors of the whole batch; the epoch kept is the one
    with the best mAP@0.5 on the validation views (views unlike the training ones, check photos
    aside: their boxes are not known). With ``params.budget_minutes`` the whole job (views
    included, counted from ``started``) ends within that time; ``stop`` ends training at the
    next batch, keeping the best epoch so far (see
    :func:`~smartlens.methods.classification.train.train_classifier`).
    """
    params = params or DetectionParams()
    clock = Clock(params.budget_minutes, started, stop)
    progress = clock.watch(progress)
    classes = class_names(ref)
    size = params.input_size
    views = make_views(
        ref, settings, params, clock.cancellable(within(progress, 0.0, 0.25)), deadline=clock.at(VIEWS_SHARE)
    )
    if clock.stopping():
        raise TrainingCancelledError("cancelled while making views: no model was trained")
    progress(ProgressEvent("loading", 0.25, "reading the training and validation views"))
    x, truths = load_views(views.train, classes, size)
    small = small_views(
        x, np.flatnonzero([bool(t) for t in truths]), np.array([not t for t in truths]), params.seed
    )
    x = np.concatenate([x, small.images])
    truths += [{c: small.boxes(b, k) for c, b in truths[i].items()} for k, i in enumerate(small.sources)]
    known = _boxes_known(views.validation)
    x_val, truths_val = load_views(views.validation, classes, size)
    x_val, truths_val = x_val[known], [t for t, k in zip(truths_val, known) if k]
    anchors = make_anchors(size, DEFAULT_LEVELS)
    y = targets(truths, anchors)
    after_s = after_training_s(len(x), len(known), count_views(views.report), clock.budget_s)

    weights = resolve_weights(params.size, settings)
    frozen = params.frozen_backbone and weights.pretrained
    model, history, stopped_early = _fit(
        x, y, x_val, truths_val, classes, anchors, params, weights, frozen, progress, clock, after_s
    )

    progress(ProgressEvent("calibrating", 0.91, f"calibrating thresholds on {len(x_val)} validation views"))
    scores, boxes = detect_batch(model, x_val, anchors)
    negative = np.array([not t for t in truths_val])
    thresholds = calibrate_thresholds(scores, outcomes(boxes, truths_val)[0], negative)
    validation = evaluate(scores, boxes, truths_val, negative, thresholds, classes)

    staging, final = new_model_dir(ref.guide.name, Method.DETECTION, settings)
    model.save(staging / "model.keras")
    progress(ProgressEvent("calibrating", 0.915, "saving the network for the lens (TFLite)"))
    export_tflite(model, staging)
    info = {
        **model_info(Method.DETECTION, ref, clock.elapsed(), stopped_early, weights, params, views),
        "backbone": f"mobilenet_v3_{params.size}",
        "route": "frozen-backbone" if frozen else "fine-tuned",
        "input_size": size,
        "anchors": levels_to_json(DEFAULT_LEVELS),
        "train_samples": int(len(x)),
        "val_samples": int(len(x_val)),
    }
    record = ModelRecord(
        classes, thresholds, validation, history, info, best_epoch(history, CURVES["val_map50"])
    )
    metrics = complete_model(
        staging,
        final,
        ref,
        record,
        views,
        lambda folder, gate: DetectionRecognizer(folder, settings, ref, use_gate=gate),
        within(progress, 0.92, 0.995),
        clock,
    )
    progress(ProgressEvent("done", 1.0, f"saved {final.name}"))
    return TrainResult(final, metrics, clock.elapsed(), stopped_early, history)
