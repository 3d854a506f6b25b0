"""The open-set gate: a learned method's answer counts only when the frame looks like that
artwork's training views more than like anything it was told is *not* in the guide.

A classifier or detector trained on a few artworks names one of them for almost any painting
(it was never asked to say "none of these" to a painting it has not seen). The gate asks the
pretrained MobileNetV3 (the TFLite embedder of the weights setting) instead: the frame's last
feature map, max-pooled over space (an instance-level descriptor: which strong local patterns
are there, wherever they are), is compared with a bank of the training views' descriptors.

    score(frame, A) = max cos(frame, views of A) - max cos(frame, negative views)

and the answer A stands when ``score >= threshold``. The threshold is the 1st percentile of the
scores of held-out views of the guide that the model got right (all its held-out views of the
guide when it gets fewer than 10 right), so about 1 in 100 good frames is lost and nothing about
the negatives has to be guessed; the negative bank (procedural frames and views of the curator's
``negatives/`` pictures) is what pushes other paintings down, and it works better the more real
negatives curators add.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..backbone import tflite_file
from ..config import Settings
from ..errors import NotAvailableError
from ..storage import atomic_write_bytes
from .result import Recognition

log = logging.getLogger("smartlens.recognition")
GATE_FILE = "gate.npz"
#: The last feature map of MediaPipe's MobileNetV3-small embedder (7x7x432), before its pooling.
MAP_TENSOR = "predict/MobilenetV3/Conv_1/hard_swish/mul_1"
#: Share of held-out right answers the gate may refuse (its threshold is this percentile).
REFUSE_PERCENT = 1.0


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


class MapDescriber:
    """Max-pooled last feature map of a TFLite MobileNetV3 embedder, L2-normalised.

    The interpreter runs without its default (XNNPACK) delegate so intermediate tensors can be
    read, on one thread: measured, 5 ms a frame here, and more with two threads on a busy machine.
    An interpreter serves one call at a time, so each thread that describes gets its own (made on
    its first call): the lens' recognition slots check their frames in parallel.
    """

    def __init__(self, tflite: Path):
        self._path = Path(tflite)
        self._local = threading.local()
        interp = self._interpreter()
        inp = interp.get_input_details()[0]
        self._in, self.size = inp["index"], int(inp["shape"][1])
        found = [t["index"] for t in interp.get_tensor_details() if t["name"].startswith(MAP_TENSOR)]
        if len(found) != 1:
            raise NotAvailableError(
                f"{self._path.name} is not the MobileNetV3 embedder the open-set gate reads "
                f"(no tensor {MAP_TENSOR})"
            )
        self._map = found[0]

    def _interpreter(self) -> Any:
        """This thread's interpreter."""
        interp = getattr(self._local, "interp", None)
        if interp is None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
                from tensorflow import lite

                interp = lite.Interpreter(
                    model_path=str(self._path),
                    num_threads=1,
                    experimental_op_resolver_type=lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                    experimental_preserve_all_tensors=True,
                )
            interp.allocate_tensors()
            self._local.interp = interp
        return interp

    def describe(self, images_bgr: Sequence[np.ndarray]) -> np.ndarray:
        """(N, C) descriptors of BGR images of any size (squashed to the input, as frames are)."""
        out = []
        interp = self._interpreter()
        for im in images_bgr:
            x = cv2.resize(im, (self.size, self.size), interpolation=cv2.INTER_AREA)[:, :, ::-1]
            interp.set_tensor(self._in, x[None].astype(np.float32) * (1 / 255.0))
            interp.invoke()
            out.append(interp.get_tensor(self._map)[0].max(axis=(0, 1)))
        return _unit(np.array(out, np.float32).reshape(len(out), -1))


@dataclass
class OpenSetGate:
    """The bank of descriptors and the threshold (saved as ``gate.npz`` in the model folder)."""

    artworks: list[str]
    positives: np.ndarray  # (N, C) training views of the guide's artworks
    owner: np.ndarray  # (N,) index into ``artworks``
    negatives: np.ndarray  # (M, C) training views of what is not in the guide
    threshold: float = -np.inf
    report: dict = field(default_factory=dict)
    describer: MapDescriber | None = field(default=None, repr=False)
    _banks: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False)

    def scores(self, desc: np.ndarray, artwork: str) -> np.ndarray:
        """The gate's score of each descriptor (N, C) for ``artwork`` (-inf: not in the bank)."""
        if artwork not in self.artworks or not len(self.negatives):
            return np.full(len(desc), -np.inf)
        if self._banks is None:  # each artwork's rows, split once (not on every frame)
            self._banks = {a: self.positives[self.owner == i] for i, a in enumerate(self.artworks)}
        mine = self._banks[artwork]
        if not len(mine):
            return np.full(len(desc), -np.inf)
        return (desc @ mine.T).max(axis=1) - (desc @ self.negatives.T).max(axis=1)

    def accepts(self, frame_bgr: np.ndarray, artwork: str) -> bool:
        """Whether ``artwork``, named on this frame, stands."""
        if self.describer is None:
            raise NotAvailableError("the open-set gate has no feature extractor loaded")
        return bool(self.scores(self.describer.describe([frame_bgr]), artwork)[0] >= self.threshold)

    def check(self, frame_bgr: np.ndarray, rec: Recognition) -> Recognition:
        """``rec`` if it names nothing or its artwork stands, else nothing (same method)."""
        if rec.artwork is None or self.accepts(frame_bgr, rec.artwork):
            return rec
        return Recognition(None, method=rec.method)

    def calibrate(self, desc: np.ndarray, artworks: Sequence[str]) -> float:
        """Set the threshold from held-out views the model named right (descriptors, artworks)."""
        s = np.array([self.scores(desc[i : i + 1], a)[0] for i, a in enumerate(artworks)], np.float64)
        s = s[np.isfinite(s)]  # none: nothing to set it from, and the gate refuses everything
        self.threshold = float(np.percentile(s, REFUSE_PERCENT)) if len(s) else float("inf")
        return self.threshold

    def save(self, model_dir: Path, weights: Path) -> Path:
        import io
        import json

        buf = io.BytesIO()
        meta = {"artworks": self.artworks, "report": self.report, "weights": str(weights)}
        np.savez(
            buf,
            positives=self.positives.astype(np.float16),
            owner=self.owner.astype(np.int32),
            negatives=self.negatives.astype(np.float16),
            threshold=np.float64(self.threshold),
            meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
        )
        path = Path(model_dir) / GATE_FILE
        atomic_write_bytes(path, buf.getvalue())
        return path


def read_gate(model_dir: Path) -> tuple[OpenSetGate, Path] | None:
    """The model's gate (without its feature extractor) and the weights it was built from, or
    None when the model has none (trained before the gate existed, or without TFLite weights)."""
    import json

    path = Path(model_dir) / GATE_FILE
    if not path.is_file():
        return None
    with np.load(path) as z:
        meta = json.loads(z["meta"].tobytes().decode())
        gate = OpenSetGate(
            meta["artworks"],
            z["positives"].astype(np.float32),
            z["owner"],
            z["negatives"].astype(np.float32),
            float(z["threshold"]),
            meta.get("report", {}),
        )
    return gate, Path(meta["weights"])


def load_gate(model_dir: Path, settings: Settings) -> OpenSetGate | None:
    """The model's gate, ready to use; None when it has none. A gate whose embedder is gone
    (and not named by the weights setting either) is skipped with a warning: the model still
    runs, but names artworks for paintings it does not know, as before the gate."""
    got = read_gate(model_dir)
    if got is None:
        return None
    gate, recorded = got
    path = tflite_file(recorded, settings)
    if path is None:
        log.warning(
            "model %s: its open-set gate needs the feature extractor %s, which is gone (point "
            "SMARTLENS_WEIGHTS at it): running without the gate",
            Path(model_dir).name,
            recorded,
        )
        return None
    gate.describer = MapDescriber(path)
    return gate
