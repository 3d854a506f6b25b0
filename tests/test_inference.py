"""A trained network saved as TFLite answers as its Keras model does; a failed export only warns."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from smartlens.methods.inference import TFLITE_FILE, TFLiteModel, export_tflite


def _tiny_network(size: int, classes: int):
    """A small convolutional classifier with the layers the trained networks use (conv, batch
    norm, hard-swish, pooling, softmax), its batch norm statistics moved off their defaults."""
    import keras

    inputs = keras.Input((size, size, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same")(x)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("hard_swish")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(classes, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(0)
    model.layers[3].set_weights(
        [rng.uniform(0.5, 2, 8), rng.normal(0, 1, 8), rng.normal(0, 1, 8), rng.uniform(0.5, 2, 8)]
    )
    return model


def test_tflite_export_answers_as_the_keras_model(tmp_path):
    size = 32
    model = _tiny_network(size, 5)
    path = export_tflite(model, tmp_path)
    assert path == tmp_path / TFLITE_FILE and path.stat().st_size > 0
    frames = np.random.default_rng(1).integers(0, 256, (4, size, size, 3)).astype(np.float32)
    want = model(frames, training=False).numpy()
    got = TFLiteModel(path, size)(frames)
    assert got.shape == want.shape == (4, 5)
    # float32 throughout on both sides: only the order of additions differs
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert np.argmax(got, axis=1).tolist() == np.argmax(want, axis=1).tolist()


def test_a_failed_export_warns_and_writes_nothing(tmp_path, caplog):
    class Unexportable:
        def export(self, *args, **kwargs):
            raise ValueError("an op TFLite cannot hold")

    with caplog.at_level(logging.WARNING, logger="smartlens.methods"):
        assert export_tflite(Unexportable(), tmp_path) is None
    assert "an op TFLite cannot hold" in caplog.text and "Keras" in caplog.text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n", [1, 3])
def test_tflite_model_takes_any_batch_one_frame_at_a_time(tmp_path, n):
    model = _tiny_network(16, 3)
    net = TFLiteModel(export_tflite(model, tmp_path), 16)
    out = net(np.zeros((n, 16, 16, 3), np.float32))
    assert out.shape == (n, 3)
    np.testing.assert_allclose(out.sum(axis=1), 1, atol=1e-5)


def test_one_model_answers_several_threads_at_once_as_alone(tmp_path):
    """Each thread has its own interpreter: frames of several visitors, in parallel, get the
    answers they get one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    net = TFLiteModel(export_tflite(_tiny_network(32, 4), tmp_path), 32)
    frames = np.random.default_rng(2).integers(0, 256, (12, 32, 32, 3)).astype(np.float32)
    alone = net(frames)
    with ThreadPoolExecutor(4) as pool:
        together = np.concatenate(list(pool.map(lambda f: net(f[None]), list(frames) * 3)))
    np.testing.assert_allclose(together, np.concatenate([alone] * 3), atol=1e-6)
