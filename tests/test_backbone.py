"""The backbone: weights resolution offline, the warning, the TFLite path, the compiled call."""
from __future__ import annotations

import time
import warnings

import numpy as np

from conftest import EMBEDDER, needs_embedder
from smartlens import backbone


def test_offline_resolution_is_random_with_advice(settings_env, tmp_path):
    settings_env(KERAS_HOME=str(tmp_path / "keras"), SMARTLENS_OFFLINE="0", SMARTLENS_DOWNLOAD_TIMEOUT="2")
    t0 = time.monotonic()
    info = backbone.resolve_weights("small")  # no network here: must fail fast, not hang
    assert time.monotonic() - t0 < 10
    assert info.source == "random" and not info.pretrained
    assert "SMARTLENS_WEIGHTS" in info.message and "random initialisation" in info.message


def test_backbone_builds_offline_with_one_warning(settings_env, tmp_path):
    settings_env(KERAS_HOME=str(tmp_path / "keras"))
    backbone._WARNED.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = backbone.build_mobilenet("small", input_size=96)
        backbone.build_mobilenet("small", input_size=96)
    ours = [w for w in caught if issubclass(w.category, RuntimeWarning) and "MobileNetV3" in str(w.message)]
    assert len(ours) == 1 and "SMARTLENS_WEIGHTS" in str(ours[0].message)
    assert model.output_shape == (None, 576)


def test_user_weights_missing_file_falls_back(settings_env, tmp_path):
    settings_env(SMARTLENS_WEIGHTS=str(tmp_path / "missing.h5"))
    info = backbone.resolve_weights("small")
    assert info.source == "random" and "does not exist" in info.message


def test_keras_cache_and_user_keras_file_are_used(settings_env, tmp_path):
    settings_env(KERAS_HOME=str(tmp_path / "keras"))
    model = backbone.build_mobilenet("small", input_size=96)
    cache = tmp_path / "keras" / "models"
    cache.mkdir(parents=True)
    path = cache / backbone.keras_weights_name("small")
    model.save_weights(str(path).replace(".h5", ".weights.h5"))
    (cache / (path.name.replace(".h5", ".weights.h5"))).rename(path)
    info = backbone.resolve_weights("small")
    assert info.source == "keras-cache" and info.path == path
    reloaded = backbone.build_mobilenet("small", input_size=96, weights=info)
    x = np.random.default_rng(0).uniform(0, 255, (1, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(model(x).numpy(), reloaded(x).numpy(), atol=1e-5)
    settings_env(SMARTLENS_WEIGHTS=str(path))
    assert backbone.resolve_weights("small").source == "user-keras"
    assert backbone.resolve_weights("large").source != "user-keras"  # a small file is not large weights


@needs_embedder
def test_tflite_embedder_from_weights_setting(settings_env):
    settings_env(SMARTLENS_WEIGHTS=str(EMBEDDER))
    emb = backbone.load_embedder("small")
    assert isinstance(emb, backbone.TFLiteEmbedder) and emb.weights.pretrained
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    b = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    f = emb.embed([a, a, b])
    assert f.shape == (3, 1024)
    np.testing.assert_allclose(f[0], f[1], atol=1e-6)
    assert np.linalg.norm(f[0] - f[2]) > 1e-3


def test_compiled_call_matches_predict(settings_env):
    emb = backbone.KerasEmbedder("small", input_size=96)
    imgs = [np.full((120, 90, 3), v, np.uint8) for v in (30, 200)]
    compiled = emb.embed(imgs)
    from smartlens.backbone import _to_rgb_batch

    predicted = emb.model.predict(_to_rgb_batch(imgs, 96).astype("float32"), verbose=0)
    np.testing.assert_allclose(compiled, predicted, atol=1e-4)
