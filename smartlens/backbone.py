"""MobileNetV3, built in one place: weights resolution, feature extractors, compiled calls.

Weights are looked for in this order:

1. a file or folder the user names (``SMARTLENS_WEIGHTS`` or ``weights`` in smartlens.toml):
   Keras ``.h5`` / ``.weights.h5`` MobileNetV3 weights, or a ``.tflite`` MobileNetV3 feature
   extractor such as MediaPipe's Image Embedder (usable wherever frozen features suffice);
2. Keras' own cache (``~/.keras/models``, or ``$KERAS_HOME/models``);
3. a download through Keras, only when the machine is online (checked with a short timeout,
   so an offline machine never hangs);
4. random initialisation, with one warning saying how to supply weights.

Per-frame inference goes through a compiled ``tf.function`` or a TFLite interpreter, never
``model.predict`` (which costs ~15x more for a single frame).
"""

from __future__ import annotations

import functools
import logging
import socket
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from .config import Settings
from .errors import UserError
from .vocabulary import BackboneSize, choices

log = logging.getLogger("smartlens.backbone")
INPUT_SIZE = 224
_DOWNLOAD_HOST = ("storage.googleapis.com", 443)


@dataclass(frozen=True)
class WeightsInfo:
    """Which weights a backbone uses and where they came from."""

    size: str
    source: str  # "user-keras", "user-tflite", "keras-cache", "download", "random"
    path: Path | None
    message: str

    @property
    def pretrained(self) -> bool:
        return self.source != "random"

    @property
    def is_tflite(self) -> bool:
        return self.source == "user-tflite"


def keras_weights_name(size: str) -> str:
    """File name Keras uses for ImageNet MobileNetV3 weights without the classifier."""
    return f"weights_mobilenet_v3_{size}_224_1.0_float_no_top_v2.h5"


def _user_weights(path: Path, size: str) -> WeightsInfo | None:
    """Interpret the user's weights setting (a file, or a folder to look in)."""
    candidates: list[Path]
    if path.is_dir():
        candidates = (
            sorted(path.glob(keras_weights_name(size)))
            + sorted(path.glob(f"*{size}*.h5"))
            + sorted(path.glob(f"*{size}*.keras"))
            + sorted(path.glob("*.tflite"))
        )
    elif path.is_file():
        candidates = [path]
    else:
        return WeightsInfo(size, "random", None, f"the weights setting names {path}, which does not exist")
    for c in candidates:
        if c.suffix == ".tflite":
            return WeightsInfo(
                size, "user-tflite", c, f"TFLite feature extractor {c} (named by the weights setting)"
            )
        if c.suffix in (".h5", ".keras"):
            other = BackboneSize.LARGE if size == BackboneSize.SMALL else BackboneSize.SMALL
            if other in c.name.lower() and size not in c.name.lower():
                continue  # weights for the other MobileNetV3 size
            return WeightsInfo(size, "user-keras", c, f"Keras weights {c} (named by the weights setting)")
    return WeightsInfo(size, "random", None, f"no usable {size} MobileNetV3 weights in {path}")


def online(timeout: float = 3.0) -> bool:
    """True when the weights server answers within ``timeout`` seconds."""
    try:
        with socket.create_connection(_DOWNLOAD_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _download(size: str, settings: Settings) -> WeightsInfo | None:
    if settings.offline or not online(min(3.0, settings.download_timeout_s)):
        return None
    from keras.src.applications import mobilenet_v3
    from keras.utils import get_file

    name = keras_weights_name(size)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(settings.download_timeout_s)
    try:
        path = get_file(
            name,
            mobilenet_v3.BASE_WEIGHT_PATH + name,
            cache_subdir="models",
            file_hash=mobilenet_v3.WEIGHTS_HASHES[f"{size}_224_1.0_float"][1],
        )
        return WeightsInfo(size, "download", Path(path), f"downloaded ImageNet weights to {path}")
    except Exception as exc:  # any network or hash failure means: no weights from there
        log.info("weights download failed: %s", exc)
        return None
    finally:
        socket.setdefaulttimeout(previous)


def resolve_weights(size: str, settings: Settings, allow_download: bool = True) -> WeightsInfo:
    """Find MobileNetV3 weights (see the module docstring for the order); never hangs."""
    if size not in choices(BackboneSize):
        raise UserError(f"size must be one of {choices(BackboneSize)}, not {size!r}")
    problem = ""
    if settings.weights is not None:
        info = _user_weights(Path(settings.weights), size)
        if info and info.pretrained:
            return info
        problem = (info.message + "; ") if info else ""
    cached = settings.keras_cache / keras_weights_name(size)
    if cached.is_file():
        return WeightsInfo(size, "keras-cache", cached, f"ImageNet weights from Keras' cache ({cached})")
    if allow_download:
        got = _download(size, settings)
        if got:
            return got
    return WeightsInfo(
        size,
        "random",
        None,
        (
            f"{problem}no ImageNet weights for MobileNetV3-{size} (none named by the weights setting, none in "
            f"{cached.parent}, no download): "
            "using random initialisation. To supply weights, point SMARTLENS_WEIGHTS (or 'weights' in "
            f"smartlens.toml) at {keras_weights_name(size)} or at a MobileNetV3 .tflite feature extractor "
            f"(e.g. MediaPipe's image embedder), or copy the .h5 file into {cached.parent}."
        ),
    )


def tflite_file(recorded: str | Path | None, settings: Settings) -> Path | None:
    """A TFLite feature extractor a model was built with: where it was recorded if it is still
    there, else the one the weights setting names now; None when there is neither."""
    if recorded and str(recorded).endswith(".tflite") and Path(recorded).is_file():
        return Path(recorded)
    current = resolve_weights(BackboneSize.SMALL, settings, allow_download=False)
    return Path(str(current.path)) if current.is_tflite else None


def warn_random(info: WeightsInfo) -> None:
    """Say that a backbone runs without pretrained weights, and how to fix it: once per message
    and process, however many models are built."""
    if not info.pretrained:
        _warn_once(info.message)


@functools.cache
def _warn_once(message: str) -> None:
    # Python's own once-per-place rule does not hold here: Keras resets the warning filters
    warnings.warn(message, RuntimeWarning, stacklevel=3)
    log.warning(message)


#: Width of the MobileNetV3-small in MediaPipe's Image Embedder (its layers are 0.75 of the paper's).
TFLITE_ALPHA = 0.75
#: Width of its embedding layer (the paper's last 1x1 convolution, on the pooled features).
TFLITE_EMBEDDING = 1024


def build_mobilenet(size: str, input_size: int, weights: WeightsInfo) -> Any:
    """A MobileNetV3 feature extractor (global average pooled), with the resolved weights.

    Expects RGB in [0, 255] (the model rescales internally). A TFLite MobileNetV3-small (MediaPipe's
    Image Embedder) is copied into Keras layer by layer (:func:`load_tflite_weights`), so it can be
    fine-tuned: the model then has the embedder's width and its 1024-wide embedding layer, and gives
    the embedder's features. Anything that cannot be loaded falls back to random weights, with the
    warning.
    """
    import keras

    tflite = weights.is_tflite and size == BackboneSize.SMALL
    if weights.is_tflite and not tflite:
        weights = WeightsInfo(
            size, "random", None, weights.message + f" holds MobileNetV3-small, not {size}: random weights"
        )
    warn_random(weights)
    small = size == BackboneSize.SMALL
    factory = keras.applications.MobileNetV3Small if small else keras.applications.MobileNetV3Large
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "input shape is not 224" is expected
        model = factory(
            input_shape=(input_size, input_size, 3),
            include_top=False,
            weights=None,
            pooling="avg",
            include_preprocessing=True,
            **({"alpha": TFLITE_ALPHA} if tflite else {}),
        )
    if tflite:
        # the embedder's last layer: a 1x1 convolution on pooled features is a dense layer
        x = keras.layers.Dense(TFLITE_EMBEDDING, name="embedding")(model.output)
        x = keras.layers.Activation("hard_swish", name="embedding_hard_swish")(x)
        model = keras.Model(model.input, x, name="MobileNetV3Small")
        try:
            load_tflite_weights(model, Path(str(weights.path)))
        except (ValueError, OSError, RuntimeError) as exc:
            warn_random(
                WeightsInfo(
                    size,
                    "random",
                    None,
                    f"could not copy {weights.path} into Keras ({exc}); using random initialisation",
                )
            )
    elif weights.path is not None:
        try:
            model.load_weights(str(weights.path))
        except Exception as exc:
            bad = WeightsInfo(
                size,
                "random",
                None,
                f"could not load {weights.path} into MobileNetV3-{size} ({exc}); using random initialisation",
            )
            warn_random(bad)
    return model


def _tflite_convolutions(path: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(op, kernel, bias) of every convolution of a TFLite model, in execution order."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        from tensorflow import lite

        interp = lite.Interpreter(
            model_path=str(path),
            # without XNNPACK the ops keep their own weight tensors, readable one by one
            experimental_op_resolver_type=lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        )
    interp.allocate_tensors()
    ops = interp._get_ops_details()  # the only API that lists ops with their tensors
    return [
        (op["op_name"], interp.get_tensor(int(op["inputs"][1])), interp.get_tensor(int(op["inputs"][2])))
        for op in ops
        if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D")
    ]


def load_tflite_weights(model: Any, path: Path) -> None:
    """Copy a TFLite MobileNetV3-small's weights into ``model`` (built by :func:`build_mobilenet`).

    TFLite folds each batch normalisation into its convolution (kernel scaled, bias added), so
    each Keras BatchNormalization becomes the identity plus that bias (gamma 1, beta = bias,
    mean 0, variance 1 - epsilon); it must then stay in inference mode when fine-tuning (see
    :func:`freeze_batch_norm`). Kernels: convolutions OHWI -> HWIO, depthwise 1HWC -> HWC1; the
    embedding convolution becomes the dense layer; the "+ 3" of the squeeze-excite gates, folded into
    their bias by TFLite, is taken out again. Raises ValueError if the layers do not match.
    """
    import keras

    convs = _tflite_convolutions(path)
    layers = [
        layer
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.DepthwiseConv2D, keras.layers.Dense))
    ]
    if len(convs) != len(layers):
        raise ValueError(f"{len(convs)} convolutions in the TFLite model, {len(layers)} in Keras'")
    by_name = {layer.name: layer for layer in model.layers}
    eps_default = 1e-3
    for (op, kernel, bias), layer in zip(convs, layers):
        k: np.ndarray
        if isinstance(layer, keras.layers.DepthwiseConv2D):
            if op != "DEPTHWISE_CONV_2D":
                raise ValueError(f"{layer.name}: TFLite has {op} there")
            k = kernel.reshape(kernel.shape[1], kernel.shape[2], kernel.shape[3], 1)
        elif isinstance(layer, keras.layers.Dense):
            k = kernel.reshape(kernel.shape[0], -1).T
        else:
            if op != "CONV_2D":
                raise ValueError(f"{layer.name}: TFLite has {op} there")
            k = kernel.transpose(1, 2, 3, 0)
        expected = tuple(layer.kernel.shape)
        if k.shape != expected:
            raise ValueError(f"{layer.name}: kernel {k.shape} in TFLite, {expected} in Keras")
        if layer.use_bias:
            if layer.name.endswith("squeeze_excite_conv_1"):
                # TFLite folds hard-sigmoid's "+ 3" into this bias; Keras adds it after the layer
                bias = bias - 3.0
            layer.set_weights([k, bias])
            continue
        layer.set_weights([k])
        bn = by_name.get(f"{layer.name}_bn")
        if not isinstance(bn, keras.layers.BatchNormalization):
            raise ValueError(f"{layer.name}: no bias in Keras and no batch normalisation after it")
        eps = float(getattr(bn, "epsilon", eps_default))
        ones = np.ones_like(bias)
        bn.set_weights([ones, bias, np.zeros_like(bias), ones * (1.0 - eps)])


def freeze_batch_norm(model: Any) -> None:
    """Keep every BatchNormalization of ``model`` in inference mode (and its statistics fixed):
    the way to fine-tune a pretrained network on small batches, and the only way for folded
    TFLite weights, whose normalisations are the identity plus a bias."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
        elif hasattr(layer, "layers"):
            freeze_batch_norm(layer)


def compiled_call(model: Any, input_size: int) -> Callable[[np.ndarray], np.ndarray]:
    """``model`` as a compiled inference function (float32 NHWC batch in, numpy out): the per-frame
    path, ~6x cheaper than ``model.predict`` for one frame."""
    import tensorflow as tf

    call = tf.function(
        lambda x: model(x, training=False),
        reduce_retracing=True,
        input_signature=[tf.TensorSpec([None, input_size, input_size, 3], tf.float32)],
    )
    return lambda batch: call(batch).numpy()


class Embedder(Protocol):
    """Images in, one feature vector per image out."""

    name: str
    dim: int
    input_size: int
    weights: WeightsInfo

    def embed(self, images_bgr: Sequence[np.ndarray] | np.ndarray) -> np.ndarray: ...


def _to_rgb_batch(images_bgr: Sequence[np.ndarray] | np.ndarray, size: int) -> np.ndarray:
    """Resize BGR images to ``size`` square and stack them as RGB uint8."""
    out = np.empty((len(images_bgr), size, size, 3), np.uint8)
    for i, im in enumerate(images_bgr):
        if im.shape[:2] != (size, size):
            im = cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA)
        out[i] = im[:, :, ::-1]
    return out


class TFLiteEmbedder:
    """A MobileNetV3 feature extractor in TFLite (e.g. MediaPipe's Image Embedder).

    A TFLite interpreter serves one call at a time, so each thread that embeds gets its own
    (made on its first call, over the same memory-mapped model file): the lens' recognition
    slots embed in parallel instead of queueing behind one lock."""

    def __init__(self, weights: WeightsInfo, threads: int):
        self.weights, self._threads = weights, threads
        self._local = threading.local()
        interp = self._interpreter()
        inp = interp.get_input_details()[0]
        out = interp.get_output_details()[0]
        self._in, self._out = inp["index"], out["index"]
        self.input_size = int(inp["shape"][1])
        self.dim = int(out["shape"][-1])
        self._scale = 1.0 / 255.0 if inp["dtype"] == np.float32 else 1.0
        self._dtype = inp["dtype"]
        self.name = f"tflite:{Path(str(weights.path)).name}"

    def _interpreter(self) -> Any:
        """This thread's interpreter."""
        interp = getattr(self._local, "interp", None)
        if interp is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
                from tensorflow import lite

                interp = lite.Interpreter(model_path=str(self.weights.path), num_threads=self._threads)
            interp.allocate_tensors()
            self._local.interp = interp
        return interp

    def embed(self, images_bgr: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        batch = _to_rgb_batch(images_bgr, self.input_size)
        out = np.empty((len(batch), self.dim), np.float32)
        interp = self._interpreter()
        for i, im in enumerate(batch):
            interp.set_tensor(self._in, (im[None].astype(np.float32) * self._scale).astype(self._dtype))
            interp.invoke()
            out[i] = interp.get_tensor(self._out).reshape(-1)
        return out


class KerasEmbedder:
    """A Keras MobileNetV3 feature extractor behind a compiled ``tf.function``."""

    def __init__(self, size: str, weights: WeightsInfo, input_size: int = INPUT_SIZE):
        self.weights = weights
        self.model = build_mobilenet(size, input_size, self.weights)
        self.input_size = input_size
        self.dim = int(self.model.output_shape[-1])
        self.name = f"keras:mobilenet_v3_{size}"
        self._call = compiled_call(self.model, input_size)

    def embed(self, images_bgr: Sequence[np.ndarray] | np.ndarray) -> np.ndarray:
        return self._call(_to_rgb_batch(images_bgr, self.input_size).astype(np.float32))


def load_embedder(size: str, settings: Settings, allow_download: bool = True) -> Embedder:
    """The best feature extractor available: the user's TFLite file, else Keras MobileNetV3."""
    info = resolve_weights(size, settings, allow_download)
    if info.is_tflite:
        return TFLiteEmbedder(info, settings.threads)
    return KerasEmbedder(size, info)
