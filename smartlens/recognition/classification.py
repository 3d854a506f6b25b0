"""The classification method: a fine-tuned MobileNetV3 (or a head on frozen features) per frame.

The whole frame is classified; the top class counts only above its own calibrated
threshold, and the reject class ("not an artwork") gives nothing.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

import cv2
import numpy as np

from ..config import Settings, get_settings
from ..guide_store import GuideRef, fingerprint
from ..imaging import as_bgr
from ..model_store import latest_model, read_info
from .result import DetailHit, Recognition

log = logging.getLogger("smartlens.classification")
REJECT = "__reject__"


def head_probabilities(head: dict, features: np.ndarray) -> np.ndarray:
    """The head's forward pass in numpy: two small matrix products, no TensorFlow per frame."""
    x = (features - head["mean"]) / head["std"]
    x = np.maximum(x @ head["w1"] + head["b1"], 0)
    z = x @ head["w2"] + head["b2"]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)



class ClassificationRecognizer:
    method = "classification"

    def __init__(self, model_dir: Path, ref: GuideRef | None = None, settings: Settings | None = None):
        self.model_dir = Path(model_dir)
        self.settings = settings or get_settings()
        self.info = read_info(self.model_dir)
        self.classes: list[str] = json.loads((self.model_dir / "classes.json").read_text())
        thresholds = json.loads((self.model_dir / "thresholds.json").read_text())
        self.thresholds = np.array([thresholds[c] for c in self.classes], np.float32)
        self.size = int(self.info["input_size"])
        self._lock = threading.Lock()
        self.stale = ref is not None and self.info.get("guide_fingerprint") != fingerprint(
            ref.guide, ref.root, visual_only=True)
        if self.stale:
            log.warning("model %s was trained on an older version of guide '%s': retrain to include changes",
                        self.model_dir.name, ref.guide.name)
        known = None if ref is None else {a.id for a in ref.guide.artworks}
        # classes of artworks no longer in the guide are never reported
        self._usable = np.array([c == REJECT or known is None or c.split("/")[0] in known for c in self.classes])
        if self.info.get("route") == "frozen-features":
            self._init_head()
        else:
            self._init_network()

    @classmethod
    def load(cls, ref: GuideRef, model: str | Path | None = None, settings: Settings | None = None):
        """The given model folder, or the newest classification model for the guide; among
        those, one trained with the weights now configured (a TFLite extractor or not) first."""
        from ..backbone import resolve_weights

        tflite = resolve_weights("small", settings, allow_download=False).is_tflite

        def same_weights(info: dict) -> bool:
            return (info.get("route") == "frozen-features") == tflite

        path = Path(model) if model else latest_model(ref.guide.name, "classification", settings, same_weights)
        return cls(path, ref, settings)

    def _init_head(self) -> None:
        from ..backbone import TFLiteEmbedder, WeightsInfo, resolve_weights

        path = Path(self.info["embedder"])
        if not path.is_file():  # moved since training: use the weights setting if it names one
            current = resolve_weights("small", self.settings, allow_download=False)
            if not current.is_tflite:
                raise FileNotFoundError(f"model {self.model_dir.name} needs the feature extractor {path}, which is "
                                        "gone: point SMARTLENS_WEIGHTS at it again")
            path = current.path
        self.embedder = TFLiteEmbedder(WeightsInfo("small", "user-tflite", path, ""), self.settings.threads)
        with np.load(self.model_dir / "head.npz") as z:
            self.head = {k: z[k] for k in z.files}

        def probs(rgb: np.ndarray) -> np.ndarray:
            return head_probabilities(self.head, self.embedder.embed(rgb[:, :, :, ::-1]))

        self._probs = probs

    def _init_network(self) -> None:
        import keras
        import tensorflow as tf

        self.model = keras.models.load_model(self.model_dir / "model.keras", compile=False)
        call = tf.function(lambda x: self.model(x, training=False), reduce_retracing=True,
                           input_signature=[tf.TensorSpec([None, self.size, self.size, 3], tf.float32)])
        self._probs = lambda rgb: call(rgb.astype(np.float32)).numpy()

    def probabilities(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """Class probabilities for frames (each squashed to the model's input, as in training)."""
        rgb = np.stack([cv2.resize(as_bgr(f), (self.size, self.size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
                        for f in frames_bgr])
        with self._lock:
            return self._probs(rgb)

    def recognize(self, frame: np.ndarray) -> Recognition:
        t0 = time.perf_counter()
        p = self.probabilities([frame])[0] * self._usable
        top = int(np.argmax(p))
        name, conf = self.classes[top], float(p[top])
        result = Recognition(None, method="classification")
        if name != REJECT and conf >= self.thresholds[top]:
            artwork, _, detail = name.partition("/")
            result = Recognition(artwork, conf, [DetailHit(detail, conf, None)] if detail else [],
                                 method="classification")
        result.ms = (time.perf_counter() - t0) * 1000
        return result
