"""The tf.data inputs the trainers feed Keras' ``fit``: one recipe, each trainer its own jitter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def fit_datasets(
    x: np.ndarray,
    y: np.ndarray,
    jitter: Callable[[Any, Any], tuple[Any, Any]],
    batch_size: int,
    seed: int,
) -> Any:
    """The training dataset: the images shuffled, changed online by ``jitter`` (on two threads)
    and batched."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(len(x), seed=seed)
        .map(jitter, num_parallel_calls=2)
        .batch(batch_size)
        .prefetch(2)
    )


def validation_dataset(x: np.ndarray, y: np.ndarray, batch_size: int = 64) -> Any:
    """The validation views as they are, as floats, batched (what Keras validates on)."""
    import tensorflow as tf

    return (
        tf.data.Dataset.from_tensor_slices((x, y))
        .map(lambda a, b: (tf.cast(a, tf.float32), b))
        .batch(batch_size)
    )
