"""The training loss: Huber (smooth L1) on the box offsets of matched anchors, plus focal loss
over the classes of every anchor that is not ignored; both summed over the whole batch and
divided by the number of matched anchors *in the whole batch*, as SSD and RetinaNet do, so many
easy background anchors cannot drown the few objects, and a frame with no object (a negative)
weighs what its anchors weigh, not as much as a frame full of objects."""

from __future__ import annotations

from typing import Any


def detection_loss(gamma: float = 2.0, alpha: float = 0.25, box_weight: float = 1.0) -> Any:
    """A Keras loss for targets (batch, anchors, 5) = 4 offsets + class (0 background,
    -1 ignored) and the detector's output (batch, anchors, 4 + classes + 1)."""
    import tensorflow as tf

    def loss(y_true: Any, y_pred: Any) -> Any:
        y_true = tf.cast(y_true, tf.float32)
        offsets, cls = y_true[..., :4], tf.cast(y_true[..., 4], tf.int32)
        pred_offsets, logits = y_pred[..., :4], y_pred[..., 4:]
        positive = tf.cast(cls > 0, tf.float32)
        valid = tf.cast(cls >= 0, tf.float32)
        n_pos = tf.maximum(tf.reduce_sum(positive), 1.0)  # matched anchors of the whole batch
        batch = tf.cast(tf.shape(y_true)[0], tf.float32)

        huber = tf.keras.losses.Huber(delta=1.0, reduction="none")
        box = huber(offsets[..., None], pred_offsets[..., None])  # (batch, anchors, 4)
        box = tf.reduce_sum(tf.reduce_sum(box, axis=-1) * positive, axis=-1)

        onehot = tf.one_hot(tf.maximum(cls, 0), tf.shape(logits)[-1])
        logp = tf.nn.log_softmax(logits)
        p_true = tf.reduce_sum(onehot * tf.exp(logp), axis=-1)
        ce = -tf.reduce_sum(onehot * logp, axis=-1)
        # alpha weighs objects against background (the many anchors)
        weight = tf.where(cls > 0, alpha, 1.0 - alpha) * tf.pow(1.0 - p_true, gamma)
        focal = tf.reduce_sum(weight * ce * valid, axis=-1)
        # Keras averages what a loss returns over the batch: times the batch size, that mean is
        # the batch's sum over its matched anchors
        return (box_weight * box + focal) * batch / n_pos

    return loss


def positive_accuracy(y_true: Any, y_pred: Any) -> Any:
    """Share of matched anchors whose top class is their object's (the held-out figure Keras
    reports as ``val_accuracy``, which :func:`~smartlens.training.callbacks.keep_best` watches)."""
    import tensorflow as tf

    cls = tf.cast(y_true[..., 4], tf.int32)
    positive = tf.cast(cls > 0, tf.float32)
    hit = tf.cast(tf.equal(tf.argmax(y_pred[..., 4:], axis=-1, output_type=tf.int32), cls), tf.float32)
    return tf.reduce_sum(hit * positive) / tf.maximum(tf.reduce_sum(positive), 1.0)


positive_accuracy.__name__ = "accuracy"
