"""What both retrieval modes share: load the cached index or build it, and recognise frames one
at a time behind the common recogniser interface."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from typing import Any, Protocol

import numpy as np

from ...config import Settings
from ...guide import GuideRef
from ...imaging import as_bgr
from ...progress import Progress, ProgressEvent, no_progress
from ...recognition.result import Recognition
from ...vocabulary import Method, RetrievalMode
from .cache import Arrays, IndexInfo, index_key, index_path, load_index, save_index

log = logging.getLogger(__name__)


class RetrievalIndex(Protocol):
    """An index as arrays (saved to and loaded from one ``.npz``)."""

    artwork_ids: list[str]

    def arrays(self) -> Arrays: ...

    def meta(self) -> dict[str, Any]: ...

    @property
    def entries(self) -> int: ...

    @property
    def nbytes(self) -> int: ...


class RetrievalRecognizer(ABC):
    """A retrieval mode behind the common interface: ``recognize(frame) -> Recognition``.

    Loads (or builds and caches) the index once. Thread-safe without a lock, so the lens' slots
    recognise in parallel: the index is read-only once prepared, and what is not safe to share
    across threads (OpenCV's SIFT detectors, TFLite interpreters) is made per thread.
    Subclasses set their parameters, then call ``super().__init__``.
    """

    method = Method.RETRIEVAL
    mode: RetrievalMode
    index: Any

    def __init__(
        self, ref: GuideRef, settings: Settings, progress: Progress = no_progress, rebuild: bool = False
    ):
        self.ref, self.settings = ref, settings
        t0 = time.perf_counter()
        path = index_path(ref, self.mode, index_key(ref, self.mode, self.key_extra()), settings)
        loaded = None if rebuild else load_index(path)
        if loaded is not None:
            try:
                self.index, report = self.index_from_arrays(*loaded), loaded[1].get("report", {})
                self.prepare()
            except Exception as exc:  # a readable file with the wrong contents: only costs a rebuild
                log.warning(
                    "damaged index cache %s (%s: %s): building it again", path, type(exc).__name__, exc
                )
                loaded = None
        if loaded is None:
            self.index, report = self.build_index(progress)
            # a cache that cannot be written only warns: the index built now is served from memory
            save_index(path, self.index.arrays(), {**self.index.meta(), "report": report})
            self.prepare()
        self.info = IndexInfo(
            self.mode,
            path,
            loaded is None,
            time.perf_counter() - t0,
            len(self.index.artwork_ids),
            self.index.entries,
            self.index.nbytes,
            report,
        )
        progress(ProgressEvent("indexing", 1.0, "index ready"))

    @abstractmethod
    def key_extra(self) -> dict[str, Any]:
        """What besides the guide shapes this index (parameters, weights): part of its cache key."""

    @abstractmethod
    def build_index(self, progress: Progress) -> tuple[Any, dict[str, Any]]:
        """Describe and calibrate the guide: (index, calibration report)."""

    @abstractmethod
    def index_from_arrays(self, arrays: Arrays, meta: dict[str, Any]) -> Any:
        """The index from its cached arrays."""

    @abstractmethod
    def prepare(self) -> None:
        """Set up the search structures for ``self.index``."""

    @abstractmethod
    def match(self, frame: np.ndarray) -> Recognition:
        """Recognise one BGR frame."""

    def recognize(self, frame: np.ndarray) -> Recognition:
        """Recognise one frame (any size, BGR). Raises ImageError for unusable frames."""
        t0 = time.perf_counter()
        frame = as_bgr(frame)
        result = self.match(frame)
        result.ms = (time.perf_counter() - t0) * 1000
        result.method = f"{self.method}/{self.mode}"
        return result
