"""The tf.data inputs both trainers feed Keras' ``fit``: one recipe, each trainer its own jitter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def fit_datasets(
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    jitter: Callable[[Any, Any], tuple[Any, Any]],
    batch_size: int,
    val_batch: int,
    seed: int,
) -> tuple[Any, Any]:
    """(training, held-out) datasets: the training images shuffled, changed online by ``jitter``
    (on two threads) and batched; the held-out ones as they are, as floats."""
    import tensorflow as tf

    train = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed)
        .map(jitter, num_parallel_calls=2)
        .batch(batch_size)
        .prefetch(2)
    )
    val = (
        tf.data.Dataset.from_tensor_slices((x_val, y_val))
        .map(lambda a, b: (tf.cast(a, tf.float32), b))
        .batch(val_batch)
    )
    return train, val
