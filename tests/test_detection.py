"""The detector's pieces: anchors, box encoding, matching, loss, NMS, AP and thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from smartlens.geometry import iou
from smartlens.methods.detection.ssd.anchors import (
    DEFAULT_LEVELS,
    AnchorLevel,
    levels_from_json,
    levels_to_json,
    make_anchors,
)
from smartlens.methods.detection.ssd.encoding import IGNORE, centres, corners, decode, encode, match
from smartlens.methods.detection.ssd.metrics import average_precision, calibrate_thresholds, evaluate
from smartlens.methods.detection.ssd.selection import best_per_class


def test_anchors_tile_each_map_with_every_shape():
    levels = (AnchorLevel(16, (0.1, 0.2)), AnchorLevel(32, (0.4,), (1.0, 2.0)))
    a = make_anchors(64, levels)
    assert a.shape == (4 * 4 * 6 + 2 * 2 * 2, 4)
    first = a[:6]  # the first cell: every scale and ratio at its centre
    assert np.allclose(first[:, :2], 0.125)
    assert np.allclose(first[:, 2] * first[:, 3], np.repeat([0.01, 0.04], 3))  # area = scale^2
    assert np.allclose(first[1, 2] / first[1, 3], 2.0)  # width / height = ratio
    assert np.allclose(a[6, :2], [0.375, 0.125])  # next cell along the row
    assert levels_from_json(levels_to_json(DEFAULT_LEVELS)) == DEFAULT_LEVELS


def test_encode_decode_round_trip_exactly():
    rng = np.random.default_rng(0)
    anchors = make_anchors(320)
    idx = rng.integers(0, len(anchors), 500)
    x0y0 = rng.uniform(0, 0.8, (500, 2))
    boxes = np.concatenate([x0y0, x0y0 + rng.uniform(0.01, 0.2, (500, 2))], axis=1)
    back = decode(encode(boxes, anchors[idx]), anchors[idx])
    assert np.abs(back - boxes).max() < 1e-5  # float32 offsets
    assert np.allclose(centres(corners(anchors)), anchors, atol=1e-7)
    # an anchor encodes itself as zero offsets
    assert np.abs(encode(corners(anchors[:10]), anchors[:10])).max() < 1e-5


def test_iou_and_matching():
    a = np.array([[0, 0, 1, 1], [0.5, 0, 1.5, 1]])
    assert np.allclose(iou(a, a), [[1, 1 / 3], [1 / 3, 1]])
    anchors = make_anchors(320)
    boxes = np.array([[0.1, 0.1, 0.5, 0.6], [0.7, 0.7, 0.74, 0.75]])  # the second: small, odd
    offsets, cls = match(boxes, np.array([3, 5]), anchors)
    assert (cls == 3).sum() >= 1 and (cls == 5).sum() >= 1  # every object gets an anchor
    assert (cls == IGNORE).any() and (cls == 0).sum() > len(cls) * 0.9
    for c, box in ((3, boxes[0]), (5, boxes[1])):
        got = decode(offsets[cls == c], anchors[cls == c])
        assert np.abs(got - box).max() < 1e-5  # targets decode back to their object
    assert (match(np.zeros((0, 4)), np.zeros(0), anchors)[1] == 0).all()


def test_each_class_keeps_its_most_probable_box():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32)
    probs = np.array(
        [[0.1, 0.8, 0.1], [0.05, 0.9, 0.05], [0.3, 0.6, 0.1], [0.2, 0.1, 0.7]], np.float32
    )  # background, class 1, class 2
    scores, best = best_per_class(boxes, probs)
    assert scores[1] == pytest.approx(0.9) and tuple(best[1]) == (1, 1, 11, 11)
    assert scores[2] == pytest.approx(0.7) and tuple(best[2]) == (0, 0, 10, 10)


def test_average_precision():
    # ranked: right, wrong, right; 3 objects in all -> precision 1 at recall 1/3, 2/3 at 2/3
    ap = average_precision(np.array([0.9, 0.8, 0.7]), np.array([True, False, True]), 3)
    assert ap == pytest.approx(1 / 3 + (2 / 3) * (1 / 3))
    assert average_precision(np.array([0.5]), np.array([True]), 1) == 1.0
    assert np.isnan(average_precision(np.array([0.5]), np.array([False]), 0))


def test_thresholds_are_calibrated_from_data():
    # class 1: right boxes score 0.6-0.9, wrong ones 0.45, negatives up to 0.55 -> just above 0.55
    scores = np.zeros((8, 3), np.float32)
    scores[:, 1] = [0.9, 0.8, 0.7, 0.6, 0.45, 0.45, 0.55, 0.3]
    correct = np.zeros((8, 3), bool)
    correct[:4, 1] = True
    negative = np.array([False] * 6 + [True, True])
    scores[:, 2] = 0.95  # class 2: never right -> never shown
    thr = calibrate_thresholds(scores, correct, negative)
    assert thr[1] == pytest.approx(0.56)
    assert thr[2] == 1.0
    truths = [{1: np.array([0, 0, 1, 1])} for _ in range(6)] + [{}, {}]
    boxes = np.tile(np.array([0, 0, 1, 1], np.float32), (8, 3, 1))
    m = evaluate(scores, boxes, truths, negative, thr, ["bg", "a", "b"])
    assert m["recall"] == pytest.approx(4 / 6 * 100, abs=0.1) and m["negatives_fp"] == 0.0
    assert m["per_class_ap"]["b"] is None


def test_loss_is_finite_and_falls_on_a_toy_batch():
    import tensorflow as tf

    from smartlens.methods.detection.ssd.loss import detection_loss, positive_accuracy
    from smartlens.methods.detection.train import targets

    anchors = make_anchors(96)
    truths = [{1: np.array([0.1, 0.1, 0.6, 0.7])}, {2: np.array([0.3, 0.2, 0.9, 0.9])}, {}]
    y = tf.constant(targets(truths, anchors))
    rng = np.random.default_rng(0)
    pred = tf.Variable(rng.normal(0, 1, (3, len(anchors), 4 + 3)).astype(np.float32))
    loss_fn, opt = detection_loss(), tf.keras.optimizers.Adam(0.05)
    losses = []
    for _ in range(30):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_fn(y, pred))
        opt.apply_gradients([(tape.gradient(loss, pred), pred)])
        losses.append(float(loss))
    assert all(np.isfinite(losses)) and losses[-1] < 0.3 * losses[0]
    assert float(positive_accuracy(y, pred)) == 1.0  # every matched anchor now names its object
