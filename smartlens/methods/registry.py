"""The registry of recognition methods (Ultralytics' ``task_map``): name -> :class:`MethodSpec`."""

from __future__ import annotations

from pathlib import Path

from ..config import Settings
from ..errors import UserError
from ..guide import GuideRef
from ..progress import Progress, no_progress
from .classification import SPEC as CLASSIFICATION
from .detection import SPEC as DETECTION
from .retrieval import SPEC as RETRIEVAL
from .spec import LoadOptions, MethodSpec, Recognizer, Training

#: Every method, in the order people are offered them (the first is the default).
METHODS: dict[str, MethodSpec] = {s.name: s for s in (RETRIEVAL, CLASSIFICATION, DETECTION)}


def method_spec(name: str) -> MethodSpec:
    """The spec of method ``name`` (optionally 'name/mode'), or a :class:`UserError` listing them."""
    spec = METHODS.get(str(name).partition("/")[0])
    if spec is None:
        raise UserError(f"unknown method {name!r}: choose one of {', '.join(METHODS)}")
    return spec


def trainable() -> list[MethodSpec]:
    """The methods that learn from a guide."""
    return [s for s in METHODS.values() if s.training is not None]


def training_of(name: str) -> Training:
    """How method ``name`` trains, or a :class:`UserError` when it needs no training."""
    spec = method_spec(name)
    if spec.training is None:
        names = ", ".join(s.name for s in trainable())
        raise UserError(f"{spec.name} needs no training; the methods that train are {names}")
    return spec.training


def load_recognizer(
    ref: GuideRef,
    settings: Settings,
    method: str = RETRIEVAL.name,
    mode: str | None = None,
    rebuild: bool = False,
    progress: Progress = no_progress,
    model: str | Path | None = None,
) -> Recognizer:
    """Load (building what is missing) the recogniser of ``method`` for a guide.

    ``method`` may name a variant ('retrieval/baseline'); ``mode`` picks one too; ``model`` is a
    trained model folder (default: the newest that fits the configured weights).
    """
    name, _, variant = str(method).partition("/")
    spec = method_spec(name)
    return spec.load(ref, settings, LoadOptions(mode or variant or None, model, rebuild, progress))
