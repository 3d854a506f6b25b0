"""What the lens app loads once per server and shares between visitors."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..analytics.events import EventLog
from ..config import Settings
from ..guide import GUIDE_FILE, GuideRef, guide_dir, load_guide
from ..guide.demo import DEMO_NAME, ensure_demo
from ..imaging import fit_within, read_image
from ..methods import Recognizer, load_recognizer
from ..publish import read_published
from ..vocabulary import Method
from .processor import LensProcessor
from .slots import FairSlots


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@functools.cache
def _shared_slots() -> FairSlots:
    # one slot per core: recognitions of different visitors run in parallel (the recognisers hold
    # no lock), and the frame callbacks' tracking and the video coding take the cores between them
    return FairSlots(cores())


@dataclass
class LensRuntime:
    """A guide, its recogniser and the event log, shared by every visitor of one lens process."""

    ref: GuideRef
    recognizer: Recognizer
    method: str
    events: EventLog | None
    #: Inference slots shared by every visitor of the process (one per core), the same for every
    #: runtime: a newly published model does not double them.
    slots: FairSlots = field(default_factory=lambda: _shared_slots())
    #: What was published when this runtime was loaded ('' : chosen on the command line or default).
    published: str = ""
    #: Pictures shown on the card, read once: (path, longest side) -> RGB.
    _pictures: dict[tuple[str, int], np.ndarray] = field(default_factory=dict, repr=False)

    def new_processor(self, session: str, language: str) -> LensProcessor:
        return LensProcessor(self.recognizer, self.ref.guide, self.slots, session, self.events, language)

    def artwork_image(self, artwork_id: str, max_side: int = 720) -> np.ndarray:
        """The artwork's picture (RGB), small enough for a phone."""
        return self._picture(self.ref.path(self.ref.guide.artwork(artwork_id).image), max_side)

    def detail_image(self, artwork_id: str, detail_id: str) -> np.ndarray:
        """The detail's icon if it has one, else its box cut from the artwork (RGB)."""
        art = self.ref.guide.artwork(artwork_id)
        det = art.detail(detail_id)
        if det.icon and self.ref.path(det.icon).is_file():
            return self._picture(self.ref.path(det.icon), 360)
        full = self._picture(self.ref.path(art.image), 100_000)
        x, y, w, h = det.box
        crop, _ = fit_within(np.ascontiguousarray(full[y : y + h, x : x + w]), 360)
        return crop

    def media(self, relative: str | None) -> Path | None:
        """A media file of the guide, if it exists."""
        if not relative:
            return None
        path = self.ref.path(relative)
        return path if path.is_file() else None

    def _picture(self, path: Path, max_side: int) -> np.ndarray:
        key = (str(path), max_side)
        if key not in self._pictures:
            img, _ = fit_within(read_image(path), max_side)
            self._pictures[key] = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        return self._pictures[key]


def shared_slots() -> FairSlots:
    """The process' one set of inference slots."""
    return _shared_slots()


def guide_version(guide: str, settings: Settings) -> int:
    """A number that changes whenever the guide is saved (0 before it exists)."""
    path = guide_dir(guide, settings) / GUIDE_FILE
    return path.stat().st_mtime_ns if path.is_file() else 0


def load_runtime(
    guide: str,
    settings: Settings,
    method: str | None = None,
    mode: str | None = None,
    events: EventLog | None = None,
) -> LensRuntime:
    """Load the guide and its recogniser (building the index on first use).

    Without ``method``: what a curator published for the guide (:mod:`smartlens.publish`), else
    retrieval.
    """
    ref = ensure_demo(settings) if guide == DEMO_NAME else load_guide(guide, settings)
    model: str | None = None
    revision = ""
    if method is None:
        chosen = read_published(ref.guide.name, settings)
        if chosen is not None:
            method, mode, revision = chosen.method, chosen.mode, chosen.revision
            folder = chosen.model_dir(settings)
            model = str(folder) if folder else None
        else:
            method = Method.RETRIEVAL
    recognizer = load_recognizer(ref, settings, method, mode, model=model)
    return LensRuntime(ref, recognizer, method, events, published=revision)
