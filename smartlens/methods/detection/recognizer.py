"""The detection method: the SSD detector finds each class's most probable box in the frame.

One compiled call per frame gives, for every class (each artwork as a whole, each detail), its
best box and score; a class counts above its calibrated threshold. The artwork is the one with
the strongest evidence, its own box or one of its details' (a close-up shows no outline), and
its details are reported with their boxes in frame pixels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ...config import Settings
from ...geometry import Box
from ...guide import GuideRef
from ...imaging import as_bgr
from ...model_store import damaged_model, latest_model, open_trained_model, same_pretraining
from ...recognition.result import DetailHit, Recognition
from ...vocabulary import BackboneSize, Method
from ..inference import TFLITE_FILE, TFLiteModel, single_threaded_inference
from ..open_set import PlacedByGate, Proposal, decide, load_placed_gate

#: An artwork whose best box (its own or a detail's) reaches this score is proposed to the
#: open-set gate (verified), even below the thresholds.
PROPOSAL_FLOOR = 0.05


def compiled_detector(model: object, anchors: np.ndarray, input_size: int) -> Callable:
    """One ``tf.function`` with a fixed signature: a (1, S, S, 3) float frame in, each class's best
    score (C+1,) and box (C+1, 4, normalised corners) out; decoding and softmax run in the graph."""
    import tensorflow as tf

    from .ssd.encoding import decode_tf

    anchor_t = tf.constant(anchors, tf.float32)

    @tf.function(input_signature=[tf.TensorSpec([1, input_size, input_size, 3], tf.float32)])
    def call(x):
        out = model(x, training=False)[0]  # type: ignore[operator]
        probs = tf.nn.softmax(out[:, 4:])
        best = tf.argmax(probs, axis=0, output_type=tf.int32)
        boxes = tf.gather(decode_tf(out[:, :4], anchor_t), best)
        return tf.reduce_max(probs, axis=0), boxes

    def run(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        scores, boxes = call(x)
        return scores.numpy(), boxes.numpy()

    return run


class DetectionRecognizer(PlacedByGate):
    """A trained detection model behind the common interface."""

    method = Method.DETECTION

    def __init__(
        self, model_dir: Path, settings: Settings, ref: GuideRef | None = None, use_gate: bool = True
    ):
        single_threaded_inference()
        from .ssd.anchors import levels_from_json, make_anchors
        from .ssd.selection import best_of_outputs

        trained = open_trained_model(model_dir, ref)
        self.model_dir, self.settings, self.info = trained.dir, settings, trained.info
        # other paintings are refused by the open-set gate, when the model has one
        self.gate = load_placed_gate(self.model_dir, ref) if use_gate else None
        # while the lens tracks an artwork, its details in view are boxed from the guide's boxes
        self.tracked_detail_boxes = (
            {a.id: {d.id: d.box for d in a.details} for a in ref.guide.artworks} if ref else {}
        )
        self.classes, self.thresholds, self.stale = trained.classes, trained.thresholds, trained.stale
        self.size = trained.input_size
        try:
            self.anchors = make_anchors(self.size, levels_from_json(self.info["anchors"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged_model(self.model_dir, exc, "info.json") from None
        # classes of artworks no longer in the guide are never reported; column 0 is background
        self._usable = np.array([i > 0 and trained.in_guide(c) for i, c in enumerate(self.classes)])
        self._artworks = [i for i, c in enumerate(self.classes) if i > 0 and "/" not in c]
        self._details = {
            a: [i for i, c in enumerate(self.classes) if c.startswith(self.classes[a] + "/")]
            for a in self._artworks
        }
        if (self.model_dir / TFLITE_FILE).is_file():
            net = TFLiteModel(self.model_dir / TFLITE_FILE, self.size)
            self._call = lambda x: tuple(a[0] for a in best_of_outputs(net(x), self.anchors))
        else:  # a model saved before its TFLite file existed
            import keras

            self.model = keras.models.load_model(self.model_dir / "model.keras", compile=False)
            self._call = compiled_detector(self.model, self.anchors, self.size)
        self._call(np.zeros((1, self.size, self.size, 3), np.float32))  # trace now, not on a visitor's frame
        if self.gate is not None:
            self.gate.warm_up()

    @classmethod
    def load(cls, ref: GuideRef, settings: Settings, model: str | Path | None = None) -> DetectionRecognizer:
        """The given model folder, or the newest detection model for the guide; among those, one
        trained from the weights now configured (pretrained or not) first."""
        from ...backbone import resolve_weights

        pretrained = resolve_weights(BackboneSize.SMALL, settings, allow_download=False).pretrained
        path = (
            Path(model)
            if model
            else latest_model(ref.guide.name, Method.DETECTION, settings, same_pretraining(pretrained))
        )
        return cls(path, settings, ref)

    def best_boxes(self, frame: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each class's best score (C+1,) and box (C+1, 4) as (x0, y0, x1, y1) in frame pixels."""
        frame = as_bgr(frame)
        h, w = frame.shape[:2]
        x = cv2.resize(frame, (self.size, self.size), interpolation=cv2.INTER_AREA)[None, :, :, ::-1]
        scores, boxes = self._call(x.astype(np.float32))  # a compiled tf.function: thread-safe
        boxes = np.clip(boxes * np.array([w, h, w, h], np.float32), 0, [w, h, w, h])
        return scores * self._usable, boxes

    def boxes(self, frame: np.ndarray, min_score: float | None = None) -> list[tuple[str, float, Box]]:
        """(class name, score, (x, y, w, h) in frame pixels) of each class whose best box passes
        ``min_score`` (default: the class's calibrated threshold), best first."""
        scores, boxes = self.best_boxes(frame)
        thr = self.thresholds if min_score is None else np.full_like(self.thresholds, min_score)
        found = [
            (self.classes[c], float(scores[c]), _xywh(boxes[c]))
            for c in np.flatnonzero((scores >= thr) & self._usable)
        ]
        return sorted(found, key=lambda f: -f[1])

    def proposals(self, frame: np.ndarray) -> list[Proposal]:
        """The artworks the detector offers for the frame, best first: those with a box above its
        threshold (their own or a detail's: a close-up shows no outline) by their strongest such
        box (confident), then the others whose best box reaches :data:`PROPOSAL_FLOOR`. Each comes
        with its details above their thresholds, boxed, and its outline when that passes too."""
        scores, boxes = self.best_boxes(frame)
        accepted = (scores >= self.thresholds) & self._usable
        ranked = []
        for a in self._artworks:
            own = [a, *self._details[a]]
            sure = [float(scores[i]) for i in own if accepted[i]]
            best = max(float(scores[i]) for i in own)
            ranked.append((bool(sure), max(sure) if sure else best, a))
        ranked.sort(reverse=True)
        out = []
        for confident, evidence, a in ranked:
            if not confident and evidence < PROPOSAL_FLOOR:
                continue
            details = [
                DetailHit(self.classes[i].split("/", 1)[1], float(scores[i]), _xywh(boxes[i]))
                for i in self._details[a]
                if accepted[i]
            ]
            quad = None
            if accepted[a]:
                x0, y0, x1, y1 = (float(v) for v in boxes[a])
                quad = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
            rec = Recognition(
                self.classes[a],
                evidence,
                sorted(details, key=lambda d: -d.score),
                method=self.method,
                quad=quad,
            )
            out.append(Proposal(rec, confident))
        return out

    def recognize(self, frame: np.ndarray) -> Recognition:
        """The artwork with the strongest box (its own or a detail's) and its details; with the
        open-set gate, the first proposal the frame is verified to show."""
        t0 = time.perf_counter()
        frame = as_bgr(frame)
        result = decide(self.gate, frame, self.proposals(frame), self.method)
        result = self.boxes_placed(result, (frame.shape[1], frame.shape[0]))
        result.ms = (time.perf_counter() - t0) * 1000
        return result


def _xywh(corners: np.ndarray) -> Box:
    x0, y0, x1, y1 = (float(v) for v in corners)
    return x0, y0, x1 - x0, y1 - y0
