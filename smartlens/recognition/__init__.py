"""Recognisers: one interface (``recognize(frame) -> Recognition``) for every method.

>>> rec = load_recognizer(load_guide("demo", settings), settings, "retrieval")
>>> rec.recognize(frame_bgr).artwork
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..config import Settings
from ..guide import GuideRef
from ..progress import Progress, no_progress
from ..vocabulary import Method, RetrievalMode, parse
from .result import DetailHit, Recognition


class Recognizer(Protocol):
    """What every method offers: one frame in, one :class:`Recognition` out."""

    @property
    def method(self) -> str: ...

    def recognize(self, frame: np.ndarray) -> Recognition: ...


def load_recognizer(
    ref: GuideRef,
    settings: Settings,
    method: str = Method.RETRIEVAL,
    mode: str | None = None,
    rebuild: bool = False,
    progress: Progress = no_progress,
    model: str | None = None,
) -> Recognizer:
    """Load (building what is missing) the recogniser of ``method`` for a guide.

    ``mode`` picks a variant (retrieval: 'verified' or 'baseline'); ``model`` a trained
    model folder (classification, detection; default: the newest for the guide).
    """
    method = parse(Method, method, "method")
    if method == Method.RETRIEVAL:
        from .retrieval import load_retrieval

        return load_retrieval(ref, settings, mode or RetrievalMode.VERIFIED, progress, rebuild)
    if method == Method.CLASSIFICATION:
        from .classification import ClassificationRecognizer

        return ClassificationRecognizer.load(ref, settings, model)
    from .detection import DetectionRecognizer

    return DetectionRecognizer.load(ref, settings, model)


__all__ = ["DetailHit", "Recognition", "Recognizer", "load_recognizer"]
