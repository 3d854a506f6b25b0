"""The classification method: a fine-tuned MobileNetV3 (or a head on frozen features) per frame.

The whole frame is classified; the top class counts only above its own calibrated
threshold, and the reject class ("not an artwork") gives nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ...backbone import TFLiteEmbedder, WeightsInfo, compiled_call, resolve_weights, tflite_file
from ...config import Settings
from ...guide import GuideRef
from ...imaging import as_bgr
from ...model_store import latest_model, open_trained_model, same_pretraining
from ...recognition.result import DetailHit, Recognition
from ...vocabulary import REJECT, BackboneSize, Method
from ..inference import TFLITE_FILE, TFLiteModel, single_threaded_inference
from ..open_set import PlacedByGate, Proposal, decide, load_placed_gate

#: An artwork whose classes together reach this probability is proposed to the open-set gate
#: (verified), even below its threshold.
PROPOSAL_FLOOR = 0.01


def head_probabilities(head: dict[str, np.ndarray], features: np.ndarray) -> np.ndarray:
    """The head's forward pass in numpy: two small matrix products, no TensorFlow per frame."""
    x = (features - head["mean"]) / head["std"]
    x = np.maximum(x @ head["w1"] + head["b1"], 0)
    z = x @ head["w2"] + head["b2"]
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


class ClassificationRecognizer(PlacedByGate):
    """A trained classification model behind the common interface."""

    method = Method.CLASSIFICATION
    _probs: Callable[[np.ndarray], np.ndarray]

    def __init__(
        self, model_dir: Path, settings: Settings, ref: GuideRef | None = None, use_gate: bool = True
    ):
        trained = open_trained_model(model_dir, ref)
        self.model_dir, self.settings, self.info = trained.dir, settings, trained.info
        # other paintings are refused by the open-set gate, when the model has one
        self.gate = load_placed_gate(self.model_dir, ref) if use_gate else None
        self.classes, self.thresholds, self.stale = trained.classes, trained.thresholds, trained.stale
        self.size = trained.input_size
        # classes of artworks no longer in the guide are never reported
        self._usable = np.array([c == REJECT or trained.in_guide(c) for c in self.classes])
        # each artwork's classes (itself and its details), for proposing artworks
        artworks = [c for c in self.classes if c != REJECT and "/" not in c]
        self._groups = {
            a: np.array([i for i, c in enumerate(self.classes) if c == a or c.startswith(a + "/")])
            for a in artworks
        }
        if self.info.get("route") == "frozen-features":
            self._init_head()
        else:
            self._init_network()
        # the first call traces the network and builds the gate's matchers: now, not on a visitor's frame
        self.probabilities([np.zeros((self.size, self.size, 3), np.uint8)])
        if self.gate is not None:
            self.gate.warm_up()

    @classmethod
    def load(
        cls, ref: GuideRef, settings: Settings, model: str | Path | None = None
    ) -> ClassificationRecognizer:
        """The given model folder, or the newest classification model for the guide; among
        those, one trained from the weights now configured (pretrained or not) first."""
        pretrained = resolve_weights(BackboneSize.SMALL, settings, allow_download=False).pretrained
        path = (
            Path(model)
            if model
            else latest_model(ref.guide.name, Method.CLASSIFICATION, settings, same_pretraining(pretrained))
        )
        return cls(path, settings, ref)

    def _init_head(self) -> None:
        path = tflite_file(self.info["embedder"], self.settings)  # moved since training: the setting's
        if path is None:
            raise FileNotFoundError(
                f"model {self.model_dir.name} needs the feature extractor {self.info['embedder']}, "
                "which is gone: point SMARTLENS_WEIGHTS at it again"
            )
        single_threaded_inference()
        self.embedder = TFLiteEmbedder(WeightsInfo(BackboneSize.SMALL, "user-tflite", path, ""), 1)
        with np.load(self.model_dir / "head.npz") as z:
            self.head = {k: z[k] for k in z.files}

        def probs(rgb: np.ndarray) -> np.ndarray:
            return head_probabilities(self.head, self.embedder.embed(rgb[:, :, :, ::-1]))

        self._probs = probs

    def _init_network(self) -> None:
        single_threaded_inference()
        if (self.model_dir / TFLITE_FILE).is_file():
            self._probs = TFLiteModel(self.model_dir / TFLITE_FILE, self.size)
            return
        import keras  # a model saved before its TFLite file existed

        self.model = keras.models.load_model(self.model_dir / "model.keras", compile=False)
        call = compiled_call(self.model, self.size)
        self._probs = lambda rgb: call(rgb.astype(np.float32))

    def probabilities(self, frames_bgr: list[np.ndarray]) -> np.ndarray:
        """Class probabilities for frames (each squashed to the model's input, as in training)."""
        rgb = np.stack(
            [
                cv2.resize(as_bgr(f), (self.size, self.size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
                for f in frames_bgr
            ]
        )
        # no lock: the compiled call is thread-safe, and the TFLite embedder keeps one
        # interpreter per thread, so recognitions on the lens' slots run in parallel
        return self._probs(rgb)

    def _answer(self, artwork: str, p: np.ndarray, c: int) -> Recognition:
        detail = self.classes[c].partition("/")[2]
        conf = float(p[c])
        return Recognition(
            artwork, conf, [DetailHit(detail, conf, None)] if detail else [], method=self.method
        )

    def proposals(self, frame: np.ndarray) -> list[Proposal]:
        """What the model offers for the frame, best first: the top class when it passes its
        threshold (confident), then the other artworks whose classes together reach
        :data:`PROPOSAL_FLOOR`, each as its most probable class (the artwork, or one of its
        details)."""
        p = self.probabilities([frame])[0] * self._usable
        top = int(np.argmax(p))
        out: list[Proposal] = []
        if self.classes[top] != REJECT and p[top] >= self.thresholds[top]:
            artwork = self.classes[top].partition("/")[0]
            out.append(Proposal(self._answer(artwork, p, top), True))
        totals = sorted(((float(p[idx].sum()), a) for a, idx in self._groups.items()), reverse=True)
        for total, artwork in totals:
            if total < PROPOSAL_FLOOR or any(o.artwork == artwork for o in out):
                continue
            idx = self._groups[artwork]
            out.append(Proposal(self._answer(artwork, p, int(idx[np.argmax(p[idx])])), False))
        return out

    def recognize(self, frame: np.ndarray) -> Recognition:
        """The top class of the whole frame if above its threshold (nothing for the reject
        class); with the open-set gate, the first proposal the frame is verified to show."""
        t0 = time.perf_counter()
        result = decide(self.gate, as_bgr(frame), self.proposals(frame), self.method)
        result.ms = (time.perf_counter() - t0) * 1000
        return result
