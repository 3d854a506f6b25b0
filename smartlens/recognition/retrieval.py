"""Retrieval (CBIR): build, calibrate and cache a guide's index, and recognise frames with it.

Two modes share the recogniser interface:

- ``verified`` (default): local features + geometric verification (:mod:`.geometric`);
  needs no pretrained weights and says where the artwork and each detail are.
- ``baseline``: the original Smart Lens method, MobileNetV3 features of rigid sub-crops
  (:mod:`.baseline`); good only with pretrained weights.

Both calibrate their acceptance thresholds from data when the index is built: views of the
guide's own artworks from the virtual camera, and negatives (walls, rooms, textures, other
pictures). The index is cached under ``data/cache/index/`` and rebuilt when the guide's
images or boxes change.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..augment.camera import Camera, CameraParams, project_quad
from ..config import Settings, get_settings
from ..guide_store import GuideRef, fingerprint
from ..imaging import as_bgr, read_image
from ..storage import atomic_write_bytes
from .baseline import BaselineIndex, BaselineMatcher, crop, entry_images, subcrops
from .geometric import GeometricIndex, GeometricMatcher, GeometricParams, describe_artwork, fit_pca
from .local_features import SiftExtractor
from .result import DetailHit, Recognition

MODES = ("verified", "baseline")
INDEX_VERSION = 4
Progress = Callable[[float, str], None]
#: Seeds of calibration views; benchmarks draw theirs elsewhere so they never test on these.
CALIBRATION_SEED = 7_000_000


@dataclass(frozen=True)
class CalibrationParams:
    negatives: int = 48
    views_per_artwork: int = 2  # positives (whole views) per artwork
    views_per_detail: int = 1  # close-ups per detail (baseline mode)
    margin: int = 3  # inliers above the worst negative (verified mode)


def _no_progress(fraction: float, message: str) -> None:
    pass


def index_path(ref: GuideRef, mode: str, key: str, settings: Settings) -> Path:
    return settings.cache / "index" / ref.guide.name / f"{mode}-{key}.npz"


def _index_key(ref: GuideRef, mode: str, extra: dict) -> str:
    blob = json.dumps({"v": INDEX_VERSION, "fp": fingerprint(ref.guide, ref.root, visual_only=True),
                       "mode": mode, **extra}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _artwork_data(ref: GuideRef, every: int = 1):
    """(index, id, image, {detail id: box}) for every ``every``-th artwork, read one at a time
    (a guide of thousands of artworks never sits in memory whole)."""
    for a, art in enumerate(ref.guide.artworks):
        if a % every == 0:
            yield a, art.id, read_image(ref.path(art.image)), {d.id: tuple(d.box) for d in art.details}


def _check_every(ref: GuideRef, most: int = 200) -> int:
    """Positive views are a check, not a fit: at most ~``most`` artworks get them."""
    return max(1, len(ref.guide.artworks) // most)


# --- verified mode ----------------------------------------------------------------------------
def build_geometric(ref: GuideRef, params: GeometricParams, calib: CalibrationParams,
                    progress: Progress = _no_progress) -> tuple[GeometricIndex, dict]:
    """Describe every artwork, then calibrate each artwork's inlier threshold."""
    sift = SiftExtractor()
    query = SiftExtractor(params.query_features, params.query_side)  # as frames are described
    pts, desc, owner, ids, sizes, det_ids, det_boxes = [], [], [], [], [], [], []
    n = len(ref.guide.artworks)
    for a, art_id, image, boxes in _artwork_data(ref):
        progress(0.6 * a / max(1, n), f"describing {art_id}")
        f = describe_artwork(image, list(boxes.values()), params, sift)
        pts.append(f.points)
        desc.append(f.descriptors)
        owner.append(np.full(len(f), a, np.int32))
        ids.append(art_id)
        sizes.append((image.shape[1], image.shape[0]))
        det_ids.append(list(boxes))
        det_boxes.append(np.array(list(boxes.values()), np.float32).reshape(-1, 4))
    all_desc = np.concatenate(desc) if desc else np.zeros((0, 128), np.float32)
    del desc
    mean = basis = None
    if params.pca_dims and len(all_desc) > 4 * params.pca_dims:
        mean, basis = fit_pca(all_desc, params.pca_dims)
    index = GeometricIndex(ids, np.array(sizes, np.int32).reshape(-1, 2), det_ids, det_boxes,
                           np.concatenate(pts) if pts else np.zeros((0, 2), np.float32), all_desc,
                           np.concatenate(owner) if owner else np.zeros(0, np.int32),
                           np.full(len(ids), params.min_inliers, np.float32), mean, basis)
    index.descriptors = index.project(all_desc)
    del all_desc
    matcher = GeometricMatcher(index, params)
    camera = Camera(CameraParams())
    neg_best = np.zeros(len(ids))
    worst = 0
    for i in range(calib.negatives):
        progress(0.6 + 0.25 * i / max(1, calib.negatives), "calibrating on negatives")
        view = camera.negative(CALIBRATION_SEED + i)
        frame_size = (view.image.shape[1], view.image.shape[0])
        for c in matcher.candidates(query.extract(view.image)):
            if matcher.plausible(c, frame_size):
                neg_best[c.artwork] = max(neg_best[c.artwork], c.inliers)
                worst = max(worst, c.inliers)
    index.thresholds = np.maximum.reduce([
        np.full(len(ids), params.min_inliers, np.float32),
        np.full(len(ids), worst + 2, np.float32),
        (neg_best + calib.margin).astype(np.float32),
    ])
    pos = []
    for a, art_id, image, boxes in _artwork_data(ref, _check_every(ref)):
        progress(0.85 + 0.15 * a / max(1, n), "checking on views of the artworks")
        for k in range(calib.views_per_artwork):
            view = camera.view(art_id, image, boxes, CALIBRATION_SEED + 1000 * a + k + 500_000)
            frame_size = (view.image.shape[1], view.image.shape[0])
            cands = [c for c in matcher.candidates(query.extract(view.image))
                     if c.artwork == a and matcher.plausible(c, frame_size)]
            pos.append((cands[0].inliers if cands else 0) >= index.thresholds[a])
    report = {"negatives": calib.negatives, "worst_negative_inliers": int(worst),
              "threshold_median": float(np.median(index.thresholds)) if len(ids) else 0.0,
              "calibration_views_accepted": float(np.mean(pos)) if pos else None}
    return index, report


# --- baseline mode ----------------------------------------------------------------------------
def _frame_queries(frame: np.ndarray) -> tuple[list[np.ndarray], list[tuple]]:
    boxes = [b for _, b in subcrops(frame)]
    return [crop(frame, b) for b in boxes], boxes


def build_baseline(ref: GuideRef, embedder, calib: CalibrationParams,
                   progress: Progress = _no_progress) -> tuple[BaselineIndex, dict]:
    """Embed every entry, then calibrate each entry's maximum distance."""
    camera = Camera(CameraParams())
    negatives = []
    for i in range(calib.negatives):
        progress(0.3 * i / max(1, calib.negatives), "describing negatives")
        negatives.append(embedder.embed(_frame_queries(camera.negative(CALIBRATION_SEED + i).image)[0]))
    center = np.concatenate(negatives).mean(axis=0).astype(np.float32)
    feats, ent_art, ent_det, ids, det_ids = [], [], [], [], []
    n = len(ref.guide.artworks)
    for a, art_id, image, boxes in _artwork_data(ref):
        progress(0.3 + 0.3 * a / max(1, n), f"embedding {art_id}")
        entries = entry_images(image, list(boxes.values()))
        feats.append(embedder.embed([im for _, im in entries]))
        ent_art += [a] * len(entries)
        ent_det += [j for j, _ in entries]
        ids.append(art_id)
        det_ids.append(list(boxes))
    index = BaselineIndex(ids, det_ids, np.zeros((0, 0), np.float32), np.array(ent_art, np.int32),
                          np.array(ent_det, np.int32), np.zeros(len(ent_art), np.float32), embedder.name, center)
    features = index.features = index.prepare(np.concatenate(feats))
    # negatives: the closest any negative crop comes to each entry
    neg_min = np.full(len(features), np.inf, np.float32)
    for q in negatives:
        d = np.sqrt(np.maximum(0, 2 - 2 * (index.prepare(q) @ features.T))).min(axis=0)
        neg_min = np.minimum(neg_min, d)
    # positives: how far views of an artwork (or close-ups of a detail) land from their own entries
    pos: dict[int, list[float]] = {}
    for a, art_id, image, boxes in _artwork_data(ref, _check_every(ref)):
        progress(0.6 + 0.4 * a / max(1, n), f"calibrating on views of {art_id}")
        jobs = [(None, CALIBRATION_SEED + 1000 * a + k + 500_000) for k in range(calib.views_per_artwork)]
        jobs += [(d, CALIBRATION_SEED + 1000 * a + 100 * j + k + 600_000)
                 for j, d in enumerate(boxes) for k in range(calib.views_per_detail)]
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
    all_pos = np.concatenate([v for v in pos.values()]) if pos else np.array([1.0])
    fallback = float(np.quantile(all_pos, 0.9))
    for e in range(len(features)):
        lo = float(np.quantile(pos[e], 0.9)) if len(pos.get(e, [])) >= 2 else fallback
        hi = float(neg_min[e]) * 0.98
        index.max_distance[e] = (lo + hi) / 2 if lo < hi else hi
    report = {"negatives": calib.negatives, "positive_q90": fallback,
              "negative_min_median": float(np.median(neg_min)), "embedder": embedder.name,
              "pretrained": bool(embedder.weights.pretrained)}
    return index, report


# --- caching ----------------------------------------------------------------------------------
def _save(path: Path, arrays: dict, meta: dict) -> None:
    import io

    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)
    atomic_write_bytes(path, buf.getvalue())
    for old in path.parent.glob(f"{path.name.split('-')[0]}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def _load(path: Path) -> tuple[dict, dict] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            return arrays, json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged: rebuild


@dataclass
class IndexInfo:
    mode: str
    path: Path
    built: bool  # True when built now, False when loaded from the cache
    seconds: float
    artworks: int
    entries: int
    nbytes: int
    report: dict


class RetrievalRecognizer:
    """The retrieval method behind the common interface: ``recognize(frame) -> Recognition``.

    Loads (or builds) the index once; thread-safe (one frame at a time per recogniser).
    """

    method = "retrieval"

    def __init__(self, ref: GuideRef, mode: str = "verified", settings: Settings | None = None,
                 params: GeometricParams | None = None, calib: CalibrationParams | None = None,
                 progress: Progress | None = None, rebuild: bool = False, embedder=None):
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}: choose one of {', '.join(MODES)}")
        self.ref, self.mode = ref, mode
        self.settings = settings or get_settings()
        self.params = params or GeometricParams()
        self.calib = calib or CalibrationParams()
        self._lock = threading.Lock()
        self._sift = SiftExtractor(self.params.query_features, self.params.query_side)
        self.embedder = None
        progress = progress or _no_progress
        t0 = time.perf_counter()
        if mode == "baseline":
            from ..backbone import load_embedder

            self.embedder = embedder or load_embedder("small", self.settings)
            extra = {"embedder": self.embedder.name, "weights": str(self.embedder.weights.path),
                     "calib": asdict(self.calib)}
        else:
            extra = {"params": asdict(self.params), "calib": asdict(self.calib)}
        path = index_path(ref, mode, _index_key(ref, mode, extra), self.settings)
        loaded = None if rebuild else _load(path)
        built = loaded is None
        if mode == "baseline":
            if loaded:
                index, report = BaselineIndex.from_arrays(*loaded), loaded[1].get("report", {})
            else:
                index, report = build_baseline(ref, self.embedder, self.calib, progress)
                _save(path, index.arrays(), {**index.meta(), "report": report})
            self.baseline = BaselineMatcher(index)
        else:
            if loaded:
                index, report = GeometricIndex.from_arrays(*loaded), loaded[1].get("report", {})
            else:
                index, report = build_geometric(ref, self.params, self.calib, progress)
                _save(path, index.arrays(), {**index.meta(), "report": report})
            self.matcher = GeometricMatcher(index, self.params)
        self.index = index
        entries = len(index.features) if mode == "baseline" else len(index.descriptors)
        self.info = IndexInfo(mode, path, built, time.perf_counter() - t0, len(index.artwork_ids),
                              entries, index.nbytes, report)
        progress(1.0, "index ready")

    def recognize(self, frame: np.ndarray) -> Recognition:
        """Recognise one frame (any size, BGR). Raises ImageError for unusable frames."""
        t0 = time.perf_counter()
        frame = as_bgr(frame)
        with self._lock:
            result = self._verified(frame) if self.mode == "verified" else self._baseline(frame)
        result.ms = (time.perf_counter() - t0) * 1000
        result.method = f"retrieval/{self.mode}"
        return result

    def _verified(self, frame: np.ndarray) -> Recognition:
        size = (frame.shape[1], frame.shape[0])
        feats = self._sift.extract(frame)
        for cand in self.matcher.candidates(feats):
            if cand.inliers < self.index.thresholds[cand.artwork] or not self.matcher.plausible(cand, size):
                continue
            w, h = self.index.sizes[cand.artwork]
            corners = project_quad(cand.H, (0, 0, w, h))
            quad = None if corners is None else [(float(x), float(y)) for x, y in corners]
            details = [DetailHit(i, s, b) for i, s, b in self.matcher.details(cand, size)]
            thr = float(self.index.thresholds[cand.artwork])
            return Recognition(self.index.artwork_ids[cand.artwork], cand.inliers / (cand.inliers + thr),
                               details, quad=quad)
        return Recognition(None)

    def _baseline(self, frame: np.ndarray) -> Recognition:
        crops, boxes = _frame_queries(frame)
        q = self.index.prepare(self.embedder.embed(crops))
        art, score, details = self.baseline.match(q, boxes)
        if art is None:
            return Recognition(None)
        names = self.index.detail_ids[art]
        return Recognition(self.index.artwork_ids[art], score,
                           [DetailHit(names[j], s, tuple(float(v) for v in b)) for j, s, b in details])
