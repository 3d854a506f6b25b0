"""The backbone: weights resolution offline, the warning, the TFLite path, the compiled call."""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from smartlens import backbone

from conftest import EMBEDDER, PAINTINGS, needs_embedder, needs_paintings


def test_offline_resolution_is_random_with_advice(settings):
    online = dataclasses.replace(settings, offline=False, download_timeout_s=2.0)
    t0 = time.monotonic()
    info = backbone.resolve_weights("small", online)  # no network here: must fail fast, not hang
    assert time.monotonic() - t0 < 10
    assert info.source == "random" and not info.pretrained
    assert "SMARTLENS_WEIGHTS" in info.message and "random initialisation" in info.message


def test_backbone_builds_offline_with_one_warning(settings):
    weights = backbone.resolve_weights("small", settings)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = backbone.build_mobilenet("small", 96, weights)
        backbone.build_mobilenet("small", 96, weights)
    ours = [w for w in caught if issubclass(w.category, RuntimeWarning) and "MobileNetV3" in str(w.message)]
    assert len(ours) == 1 and "SMARTLENS_WEIGHTS" in str(ours[0].message)
    assert model.output_shape == (None, 576)


def test_user_weights_missing_file_falls_back(settings, tmp_path):
    info = backbone.resolve_weights("small", dataclasses.replace(settings, weights=tmp_path / "missing.h5"))
    assert info.source == "random" and "does not exist" in info.message


def test_keras_cache_and_user_keras_file_are_used(settings):
    model = backbone.build_mobilenet("small", 96, backbone.resolve_weights("small", settings))
    cache = settings.keras_cache
    cache.mkdir(parents=True)
    path = cache / backbone.keras_weights_name("small")
    model.save_weights(str(path).replace(".h5", ".weights.h5"))
    (cache / (path.name.replace(".h5", ".weights.h5"))).rename(path)
    info = backbone.resolve_weights("small", settings)
    assert info.source == "keras-cache" and info.path == path
    reloaded = backbone.build_mobilenet("small", 96, info)
    x = np.random.default_rng(0).uniform(0, 255, (1, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(model(x).numpy(), reloaded(x).numpy(), atol=1e-5)
    named = dataclasses.replace(settings, weights=path)
    assert backbone.resolve_weights("small", named).source == "user-keras"
    assert (
        backbone.resolve_weights("large", named).source != "user-keras"
    )  # a small file is not large weights


@needs_embedder
def test_tflite_embedder_from_weights_setting(settings):
    emb = backbone.load_embedder("small", dataclasses.replace(settings, weights=EMBEDDER))
    assert isinstance(emb, backbone.TFLiteEmbedder) and emb.weights.pretrained
    rng = np.random.default_rng(0)
    a = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    b = rng.integers(0, 255, (300, 200, 3), dtype=np.uint8)
    f = emb.embed([a, a, b])
    assert f.shape == (3, 1024)
    np.testing.assert_allclose(f[0], f[1], atol=1e-6)
    assert np.linalg.norm(f[0] - f[2]) > 1e-3


def test_compiled_call_matches_predict(settings):
    emb = backbone.KerasEmbedder("small", backbone.resolve_weights("small", settings), input_size=96)
    imgs = [np.full((120, 90, 3), v, np.uint8) for v in (30, 200)]
    compiled = emb.embed(imgs)
    from smartlens.backbone import _to_rgb_batch

    predicted = emb.model.predict(_to_rgb_batch(imgs, 96).astype("float32"), verbose=0)
    np.testing.assert_allclose(compiled, predicted, atol=1e-4)


@needs_embedder
@needs_paintings
def test_tflite_embedder_weights_copied_into_keras_give_its_features():
    """MediaPipe's embedder, copied into Keras' MobileNetV3-small layer by layer, gives the same
    features as the TFLite interpreter on real paintings (so fine-tuning starts from ImageNet)."""
    from smartlens.imaging import read_image

    info = backbone.WeightsInfo("small", "user-tflite", EMBEDDER, "")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = backbone.build_mobilenet("small", 224, info)
    assert not [w for w in caught if "random" in str(w.message)]
    images = [read_image(p) for p in sorted(PAINTINGS.glob("*.jpg"))]
    want = backbone.TFLiteEmbedder(info, 2).embed(images)
    got = model(backbone._to_rgb_batch(images, 224).astype("float32"), training=False).numpy()
    cosine = (want * got).sum(1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)
    assert cosine.min() > 0.9999, cosine
    np.testing.assert_allclose(got, want, atol=0.01 * np.abs(want).max())
    # a painting's features are not those of another: the comparison can fail
    assert float((want[0] * got[1]).sum() / np.linalg.norm(want[0]) / np.linalg.norm(got[1])) < 0.99


def test_tflite_weights_that_do_not_fit_fall_back_with_a_warning(tmp_path):
    bad = tmp_path / "not-a-model.tflite"
    bad.write_bytes(b"TFL3 but not really")
    info = backbone.WeightsInfo("small", "user-tflite", bad, "")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = backbone.build_mobilenet("small", 96, info)
    assert any("could not copy" in str(w.message) for w in caught)
    assert model.output_shape == (None, 1024)
