"""Recognition methods, one package each, behind one registry.

>>> rec = load_recognizer(load_guide("demo", settings), settings, "retrieval")
>>> rec.recognize(frame_bgr).artwork

Each method package (:mod:`.retrieval`, :mod:`.classification`, :mod:`.detection`) holds its
recogniser, its trainer and parameters when it learns, and one :class:`MethodSpec` (``SPEC``);
:data:`METHODS` maps names to specs. A new method is a new package added to the registry.
"""

from __future__ import annotations

from .registry import METHODS, load_recognizer, method_spec, trainable, training_of
from .spec import LoadOptions, MethodSpec, Recognizer, Training, TrainResult

__all__ = [
    "METHODS",
    "LoadOptions",
    "MethodSpec",
    "Recognizer",
    "TrainResult",
    "Training",
    "load_recognizer",
    "method_spec",
    "trainable",
    "training_of",
]
