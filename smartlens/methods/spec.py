"""What a recognition method is to the rest of SmartLens: one :class:`MethodSpec` per method.

The CLI, the job runner, the studio and the benchmarks look a method up in the registry
(:mod:`smartlens.methods`) and call what its spec offers, so none of them branches on a method's
name, and a new method is one new package with one spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..config import Settings
from ..guide import GuideRef
from ..progress import Progress, no_progress
from ..recognition.result import Recognition


class Recognizer(Protocol):
    """What every method offers: one frame in, one :class:`Recognition` out."""

    @property
    def method(self) -> str: ...

    def recognize(self, frame: np.ndarray) -> Recognition: ...


@dataclass
class TrainResult:
    """What a training made: the saved model folder, its figures (``metrics.json``: validation,
    open-set gate, report), how it went."""

    model_dir: Path
    metrics: dict
    seconds: float
    stopped_early: bool
    history: dict = field(default_factory=dict)
    #: A few held-out frames (BGR) and the in-memory model's outputs for them, so a reloaded
    #: model can be checked against the one that was trained.
    probe_frames: np.ndarray | None = None
    probe_outputs: np.ndarray | None = None


@dataclass(frozen=True)
class LoadOptions:
    """How to load a method's recogniser for a guide."""

    mode: str | None = None  # a variant (retrieval: verified or baseline)
    model: str | Path | None = None  # a trained model folder (default: the newest that fits)
    rebuild: bool = False  # rebuild an index even when it is up to date
    progress: Progress = no_progress


@dataclass(frozen=True)
class Training:
    """How a learned method trains: its parameters, the views it reads, the trainer itself."""

    #: The parameter class: the one source of defaults, bounds and help (``smartlens.params``).
    params: type
    #: ``(ref, settings, params, progress, deadline, report_only) -> TrainingViews``: make or reuse
    #: exactly the views a training with these parameters reads (also ``augment --for-training``).
    views: Callable[..., Any]
    #: ``(ref, settings, params, progress, stop, started) -> TrainResult``: ``started`` (a
    #: ``time.time()`` value, default now) is when the job was asked for: the budget counts from it.
    train: Callable[..., TrainResult]
    #: ``(model_dir, settings, ref, use_gate) -> Recognizer``: a trained model folder opened
    #: (the open-set gate is built on it with ``use_gate=False``).
    open_model: Callable[..., Recognizer]
    #: One line of a model's figures from its whole ``metrics.json``: the report set's (views no
    #: choice was made on), with how many views they rest on.
    figures: Callable[[dict], str]


@dataclass(frozen=True)
class MethodSpec:
    """One recognition method: its name, what visitors see, how to load and (maybe) train it."""

    name: str
    title: str
    #: What a visitor sees with it, in one line (the studio and the README show it).
    experience: str
    #: ``(ref, settings, LoadOptions) -> Recognizer``.
    load: Callable[[GuideRef, Settings, LoadOptions], Recognizer]
    #: Variants chosen at load time (``LoadOptions.mode``), the first one the default.
    modes: tuple[str, ...] = ()
    #: How it trains; None for a method that needs no training.
    training: Training | None = None
    #: Variants that use no pretrained weights at all (every other one is better with them).
    weightless_modes: tuple[str, ...] = ()

    @property
    def default_mode(self) -> str | None:
        return self.modes[0] if self.modes else None

    def needs_weights(self, mode: str | None = None) -> bool:
        """Whether pretrained weights change what this variant recognises."""
        return (mode or self.default_mode) not in self.weightless_modes

    def variants(self) -> list[str]:
        """'method' or 'method/mode' for each variant (the benchmark's and the studio's names)."""
        return [f"{self.name}/{m}" for m in self.modes] or [self.name]
