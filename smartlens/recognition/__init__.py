"""Recognisers: one interface (``recognize(frame) -> Recognition``) for every method.

>>> rec = load_recognizer(load_guide("demo"), "retrieval")
>>> rec.recognize(frame_bgr).artwork
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from ..config import Settings
from ..guide_store import GuideRef
from .result import DetailHit, Recognition

METHODS = ("retrieval", "classification", "detection")


class Recognizer(Protocol):
    method: str

    def recognize(self, frame: np.ndarray) -> Recognition: ...


def load_recognizer(ref: GuideRef, method: str = "retrieval", mode: str | None = None,
                    settings: Settings | None = None, rebuild: bool = False, progress=None,
                    model: str | None = None) -> Recognizer:
    """Load (building what is missing) the recogniser of ``method`` for a guide.

    ``mode`` picks a variant (retrieval: 'verified' or 'baseline'); ``model`` a trained
    model folder (classification, detection; default: the newest for the guide).
    """
    if method == "retrieval":
        from .retrieval import RetrievalRecognizer

        return RetrievalRecognizer(ref, mode or "verified", settings, progress=progress, rebuild=rebuild)
    if method == "classification":
        from .classification import ClassificationRecognizer

        return ClassificationRecognizer.load(ref, model, settings)
    if method == "detection":
        raise NotImplementedError("the detection method (SSD on MobileNetV3) is not built yet: "
                                  "use --method retrieval, which also draws boxes for details")
    raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")


__all__ = ["load_recognizer", "Recognizer", "Recognition", "DetailHit", "METHODS"]
