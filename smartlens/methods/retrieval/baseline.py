"""The original Smart Lens retrieval (the baseline mode): CNN features of rigid sub-crops.

Index entries per artwork: the whole image and five crops of 2/3 width and height (centre
and four corners), plus one entry per detail (its box). A frame is described the same way:
the whole frame names the artwork (nearest entry, if within that entry's calibrated maximum
distance), and its sub-crops name the artwork's details.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ...backbone import Embedder, load_embedder
from ...config import Settings
from ...geometry import Box, float_box
from ...guide import GuideRef
from ...progress import Progress, ProgressEvent, no_progress
from ...recognition.result import DetailHit, Recognition
from ...synth.camera import Camera, CameraParams
from ...vocabulary import BackboneSize, RetrievalMode
from .cache import Arrays
from .calibration import (
    CALIBRATION_SEED,
    DETAIL_VIEW_SEEDS,
    WHOLE_VIEW_SEEDS,
    CalibrationParams,
    artwork_data,
    check_every,
)
from .kd_forest import flann_index
from .recognizer import RetrievalRecognizer

CROPS = ("centre", "top-left", "top-right", "bottom-left", "bottom-right")


def subcrops(image: np.ndarray) -> list[tuple[str, Box]]:
    """The whole image and its five 2/3-size crops, as (name, (x, y, w, h))."""
    h, w = image.shape[:2]
    cw, ch = int(w * 2 / 3), int(h * 2 / 3)
    origins = {
        "centre": ((w - cw) // 2, (h - ch) // 2),
        "top-left": (0, 0),
        "top-right": (w - cw, 0),
        "bottom-left": (0, h - ch),
        "bottom-right": (w - cw, h - ch),
    }
    return [("whole", (0, 0, w, h))] + [(n, (*origins[n], cw, ch)) for n in CROPS]


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The part of ``image`` under ``box`` (clipped to the image)."""
    x, y, w, h = (int(round(v)) for v in box)
    return image[max(0, y) : y + h, max(0, x) : x + w]


def normalise(f: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (an all-zero row stays zero).

    The floor guards only against division by zero: adding an epsilon instead left the weak
    features of an untrained network (norms ~1e-10) far shorter than unit length."""
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-30)


@dataclass
class BaselineIndex:
    """Entry features with their artwork, detail (-1 for artwork-level entries) and max distance."""

    artwork_ids: list[str]
    detail_ids: list[list[str]]
    features: np.ndarray  # (E, D) L2-normalised
    entry_artwork: np.ndarray  # (E,)
    entry_detail: np.ndarray  # (E,) detail index within the artwork, or -1
    max_distance: np.ndarray  # (E,)
    embedder: str
    #: Mean feature of generic scenes, subtracted before normalising: post-ReLU features all
    #: point one way, and centring them spreads cosine distances out.
    center: np.ndarray | None = None

    def prepare(self, raw: np.ndarray) -> np.ndarray:
        return normalise(raw - (0 if self.center is None else self.center))

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "b_features": self.features.astype(np.float16),
            "b_artwork": self.entry_artwork,
            "b_detail": self.entry_detail,
            "b_max_distance": self.max_distance,
            "b_center": np.zeros(self.features.shape[1], np.float32) if self.center is None else self.center,
        }

    def meta(self) -> dict:
        return {"artwork_ids": self.artwork_ids, "detail_ids": self.detail_ids, "embedder": self.embedder}

    @classmethod
    def from_arrays(cls, arrays, meta: dict) -> BaselineIndex:
        return cls(
            meta["artwork_ids"],
            meta["detail_ids"],
            normalise(arrays["b_features"].astype(np.float32)),
            arrays["b_artwork"],
            arrays["b_detail"],
            arrays["b_max_distance"],
            meta["embedder"],
            arrays["b_center"],
        )

    @property
    def entries(self) -> int:
        return len(self.features)

    @property
    def nbytes(self) -> int:
        return int(self.features.nbytes + self.entry_artwork.nbytes + self.entry_detail.nbytes)


def entry_images(image: np.ndarray, boxes: list[Box]) -> list[tuple[int, np.ndarray]]:
    """(detail index or -1, image) of every index entry of one artwork."""
    out = [(-1, crop(image, box)) for _, box in subcrops(image)]
    for j, (x, y, w, h) in enumerate(boxes):
        m = 0.1
        out.append((j, crop(image, (x - w * m, y - h * m, w * (1 + 2 * m), h * (1 + 2 * m)))))
    return out


class NearestEntry:
    """The nearest index entry to each query, by OpenCV's FLANN: an exact linear scan for small
    indexes, a k-d forest with a fixed budget of checks for large ones.

    The distance returned is the chordal one calibration uses, ``sqrt(2 - 2 cos)``: the same as
    L2 for unit vectors, and still comparable to the calibrated limits when a feature was too
    weak to normalise (random weights give near-zero features).
    """

    def __init__(self, vectors: np.ndarray, exact_below: int = 2048, trees: int = 4, checks: int = 128):
        self.vectors = np.ascontiguousarray(vectors, np.float32)
        self.checks = checks
        algorithm: dict[str, bool | int | float | str] = (
            {"algorithm": 0} if len(vectors) < exact_below else {"algorithm": 1, "trees": trees}
        )
        self._flann = flann_index(self.vectors, algorithm) if len(vectors) else None

    def search(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(entry index, distance) per query row; (-1, inf) when the index is empty."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), np.float32)
        if self._flann is None:
            return np.full(len(queries), -1, np.int64), np.full(len(queries), np.inf, np.float32)
        nn, _ = self._flann.knnSearch(queries, 1, params={"checks": self.checks})
        ids = nn[:, 0].astype(np.int64)
        sims = np.einsum("ij,ij->i", queries, self.vectors[ids])
        return ids, np.sqrt(np.maximum(0.0, 2.0 - 2.0 * sims)).astype(np.float32)


class BaselineMatcher:
    def __init__(self, index: BaselineIndex):
        self.index = index
        self.nearest = NearestEntry(index.features)
        #: each artwork's detail entries: a sub-crop is matched only against these (a handful)
        self._detail_entries = {
            a: np.flatnonzero((index.entry_artwork == a) & (index.entry_detail >= 0))
            for a in range(len(index.artwork_ids))
        }

    def match(
        self, frame_features: np.ndarray, crop_boxes: list[Box]
    ) -> tuple[int | None, float, list[tuple[int, float, Box]]]:
        """(artwork index or None, score, [(detail index, score, box)]) from a frame's six features."""
        ix = self.index
        entry, dist = self.nearest.search(frame_features[:1])
        e = int(entry[0])
        if e < 0 or dist[0] > ix.max_distance[e]:
            return None, 0.0, []
        art = int(ix.entry_artwork[e])
        score = float(1.0 - dist[0] / max(ix.max_distance[e], 1e-6) / 2)
        details: dict[int, tuple[float, Box]] = {}
        if ix.entry_detail[e] >= 0:
            details[int(ix.entry_detail[e])] = (score, crop_boxes[0])
        own = self._detail_entries[art]
        if len(own):
            sims = frame_features[1:] @ ix.features[own].T
            best = np.argmax(sims, axis=1)
            ents = own[best]
            dists = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * sims[np.arange(len(best)), best]))
            for ent, d, box in zip(ents, dists, crop_boxes[1:]):
                if d <= ix.max_distance[ent]:
                    j = int(ix.entry_detail[ent])
                    s = float(1.0 - d / max(ix.max_distance[ent], 1e-6) / 2)
                    if s > details.get(j, (-1.0, None))[0]:
                        details[j] = (s, box)
        return art, score, [(j, s, b) for j, (s, b) in sorted(details.items())]


def frame_queries(frame: np.ndarray) -> tuple[list[np.ndarray], list[Box]]:
    """The frame's whole view and five sub-crops, and their boxes."""
    boxes = [b for _, b in subcrops(frame)]
    return [crop(frame, b) for b in boxes], boxes


def build_baseline_index(
    ref: GuideRef, embedder: Embedder, calib: CalibrationParams, progress: Progress = no_progress
) -> tuple[BaselineIndex, dict[str, Any]]:
    """Embed every entry, then calibrate each entry's maximum distance."""

    def say(fraction: float, message: str) -> None:
        progress(ProgressEvent("indexing", fraction, message))

    camera = Camera(CameraParams())
    negatives = []
    for i in range(calib.negatives):
        say(0.3 * i / max(1, calib.negatives), "describing negatives")
        negatives.append(embedder.embed(frame_queries(camera.negative(CALIBRATION_SEED + i).image)[0]))
    center = np.concatenate(negatives).mean(axis=0).astype(np.float32)
    feats, ent_art, ent_det, ids, det_ids = [], [], [], [], []
    n = len(ref.guide.artworks)
    for a, art_id, image, boxes in artwork_data(ref):
        say(0.3 + 0.3 * a / max(1, n), f"embedding {art_id}")
        entries = entry_images(image, list(boxes.values()))
        feats.append(embedder.embed([im for _, im in entries]))
        ent_art += [a] * len(entries)
        ent_det += [j for j, _ in entries]
        ids.append(art_id)
        det_ids.append(list(boxes))
    index = BaselineIndex(
        ids,
        det_ids,
        np.zeros((0, 0), np.float32),
        np.array(ent_art, np.int32),
        np.array(ent_det, np.int32),
        np.zeros(len(ent_art), np.float32),
        embedder.name,
        center,
    )
    features = index.features = index.prepare(np.concatenate(feats))
    # negatives: the closest any negative crop comes to each entry
    neg_min = np.full(len(features), np.inf, np.float32)
    for q in negatives:
        d = np.sqrt(np.maximum(0, 2 - 2 * (index.prepare(q) @ features.T))).min(axis=0)
        neg_min = np.minimum(neg_min, d)
    # positives: how far views of an artwork (or close-ups of a detail) land from their own entries
    pos: dict[int, list[float]] = {}
    for a, art_id, image, boxes in artwork_data(ref, check_every(ref)):
        say(0.6 + 0.4 * a / max(1, n), f"calibrating on views of {art_id}")
        jobs: list[tuple[str | None, int]] = [
            (None, CALIBRATION_SEED + 1000 * a + k + WHOLE_VIEW_SEEDS) for k in range(calib.views_per_artwork)
        ]
        jobs += [
            (d, CALIBRATION_SEED + 1000 * a + 100 * j + k + DETAIL_VIEW_SEEDS)
            for j, d in enumerate(boxes)
            for k in range(calib.views_per_detail)
        ]
        for focus, seed in jobs:
            view = camera.view(art_id, image, boxes, seed, focus)
            q = index.prepare(embedder.embed([view.image]))[0]
            if focus is None:
                mask = (index.entry_artwork == a) & (index.entry_detail < 0)
            else:
                mask = (index.entry_artwork == a) & (index.entry_detail == list(boxes).index(focus))
            cand = np.flatnonzero(mask)
            d = np.sqrt(np.maximum(0, 2 - 2 * features[cand] @ q))
            pos.setdefault(int(cand[np.argmin(d)]), []).append(float(d.min()))
    all_pos = np.concatenate(list(pos.values())) if pos else np.array([1.0])
    fallback = float(np.quantile(all_pos, 0.9))
    for e in range(len(features)):
        lo = float(np.quantile(pos[e], 0.9)) if len(pos.get(e, [])) >= 2 else fallback
        hi = float(neg_min[e]) * 0.98
        index.max_distance[e] = (lo + hi) / 2 if lo < hi else hi
    report = {
        "negatives": calib.negatives,
        "positive_q90": fallback,
        "negative_min_median": float(np.median(neg_min)),
        "embedder": embedder.name,
        "pretrained": bool(embedder.weights.pretrained),
    }
    return index, report


class BaselineRetrieval(RetrievalRecognizer):
    """The original Smart Lens retrieval: names the artwork and, by sub-crops, its details."""

    mode = RetrievalMode.BASELINE
    index: BaselineIndex

    def __init__(
        self,
        ref: GuideRef,
        settings: Settings,
        calib: CalibrationParams | None = None,
        progress: Progress = no_progress,
        rebuild: bool = False,
        embedder: Embedder | None = None,
    ):
        self.calib = calib or CalibrationParams()
        self.embedder = embedder or load_embedder(BackboneSize.SMALL, settings)
        super().__init__(ref, settings, progress, rebuild)

    def key_extra(self) -> dict[str, Any]:
        return {
            "embedder": self.embedder.name,
            "weights": str(self.embedder.weights.path),
            "calib": asdict(self.calib),
        }

    def build_index(self, progress: Progress) -> tuple[BaselineIndex, dict[str, Any]]:
        return build_baseline_index(self.ref, self.embedder, self.calib, progress)

    def index_from_arrays(self, arrays: Arrays, meta: dict[str, Any]) -> BaselineIndex:
        return BaselineIndex.from_arrays(arrays, meta)

    def prepare(self) -> None:
        self.matcher = BaselineMatcher(self.index)

    def match(self, frame: np.ndarray) -> Recognition:
        crops, boxes = frame_queries(frame)
        q = self.index.prepare(self.embedder.embed(crops))
        art, score, details = self.matcher.match(q, boxes)
        if art is None:
            return Recognition(None)
        names = self.index.detail_ids[art]
        return Recognition(
            self.index.artwork_ids[art],
            score,
            [DetailHit(names[j], s, float_box(b)) for j, s, b in details],
        )
