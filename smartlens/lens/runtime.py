"""What the lens app loads once per server and shares between visitors."""

from __future__ import annotations

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
from ..recognition import Recognizer, load_recognizer
from ..vocabulary import Method
from .processor import FairSlots, LensProcessor


@dataclass
class LensRuntime:
    """A guide, its recogniser and the event log, shared by every visitor of one lens process."""

    ref: GuideRef
    recognizer: Recognizer
    method: str
    events: EventLog | None
    #: Inference slots shared by every visitor: one per core beyond the one WebRTC needs.
    slots: FairSlots = field(default_factory=lambda: FairSlots(max(1, (os.cpu_count() or 2) - 1)))
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


def guide_version(guide: str, settings: Settings) -> int:
    """A number that changes whenever the guide is saved (0 before it exists)."""
    path = guide_dir(guide, settings) / GUIDE_FILE
    return path.stat().st_mtime_ns if path.is_file() else 0


def load_runtime(
    guide: str,
    settings: Settings,
    method: str = Method.RETRIEVAL,
    mode: str | None = None,
    events: EventLog | None = None,
) -> LensRuntime:
    """Load the guide and its recogniser (building the index on first use)."""
    ref = ensure_demo(settings) if guide == DEMO_NAME else load_guide(guide, settings)
    recognizer = load_recognizer(ref, settings, method, mode)
    return LensRuntime(ref, recognizer, method, events)
