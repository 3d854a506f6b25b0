"""What the lens app loads once per server and shares between visitors."""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ..analytics.events import EventLog
from ..config import Settings, get_settings
from ..guide_store import GuideRef, load_guide
from ..imaging import fit_within, read_image
from ..recognition import load_recognizer
from .processor import FairSlots, LensProcessor

_LOGS: dict[Path, EventLog] = {}
_LOGS_LOCK = threading.Lock()


def event_log(settings: Settings | None = None) -> EventLog:
    """The process' one writer of the events database."""
    path = (settings or get_settings()).events_db
    with _LOGS_LOCK:
        if path not in _LOGS:
            _LOGS[path] = EventLog(path)
        return _LOGS[path]


@dataclass
class LensRuntime:
    ref: GuideRef
    recognizer: object
    method: str
    events: EventLog
    #: Inference slots shared by every visitor: one per core beyond the one WebRTC needs.
    slots: FairSlots = field(default_factory=lambda: FairSlots(max(1, (os.cpu_count() or 2) - 1)))

    def new_processor(self, session: str, language: str) -> LensProcessor:
        return LensProcessor(self.recognizer, self.ref.guide, self.slots, session, self.events, language)

    def artwork_image(self, artwork_id: str, max_side: int = 720) -> np.ndarray:
        """The artwork's picture (RGB), small enough for a phone."""
        return _artwork_rgb(str(self.ref.path(self.ref.guide.artwork(artwork_id).image)), max_side)

    def detail_image(self, artwork_id: str, detail_id: str) -> np.ndarray:
        """The detail's icon if it has one, else its box cut from the artwork (RGB)."""
        art = self.ref.guide.artwork(artwork_id)
        det = art.detail(detail_id)
        if det.icon and self.ref.path(det.icon).is_file():
            return _artwork_rgb(str(self.ref.path(det.icon)), 360)
        full = _artwork_rgb(str(self.ref.path(art.image)), 100_000)
        x, y, w, h = det.box
        crop, _ = fit_within(np.ascontiguousarray(full[y:y + h, x:x + w]), 360)
        return crop

    def media(self, relative: str | None) -> Path | None:
        if not relative:
            return None
        path = self.ref.path(relative)
        return path if path.is_file() else None


@lru_cache(maxsize=256)
def _artwork_rgb(path: str, max_side: int) -> np.ndarray:
    img, _ = fit_within(read_image(path), max_side)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def guide_version(guide: str, settings: Settings | None = None) -> int:
    """A number that changes whenever the guide is saved (0 before it exists)."""
    from ..guide_store import GUIDE_FILE, guide_dir

    path = guide_dir(guide, settings) / GUIDE_FILE
    return path.stat().st_mtime_ns if path.is_file() else 0


def load_runtime(guide: str, method: str = "retrieval", mode: str | None = None,
                 settings: Settings | None = None) -> LensRuntime:
    """Load the guide and its recogniser (building the index on first use)."""
    settings = settings or get_settings()
    if guide == "demo":
        from ..demo import ensure_demo

        ref = ensure_demo(settings)
    else:
        ref = load_guide(guide, settings)
    recognizer = load_recognizer(ref, method, mode, settings=settings)
    return LensRuntime(ref, recognizer, method, event_log(settings))
