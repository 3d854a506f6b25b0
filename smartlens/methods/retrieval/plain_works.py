"""Artworks with too little texture for local features: named by a global descriptor instead.

A black painting, a gold ground, a monochrome gives SIFT almost no keypoints, so geometric
verification can never name it. For those artworks (fewer than ``min_keypoints`` in the index),
verified retrieval keeps a few *prototypes*: the pretrained embedder's features of virtual-camera
views of the artwork. A frame in which local features found nothing is embedded (whole, and its
centre) and compared with them; the nearest artwork is named only when it is nearer than anything
the calibration's negatives came (walls, rooms, textures, other pictures, museum scenes, views of
the guide's other artworks), by a margin: its own open-set refusal, calibrated on negatives only.

Without pretrained weights the features mean nothing: no prototypes are made, and the index'
report lists the artworks that cannot be recognised (the curator is told which, and why).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ...backbone import Embedder
from ...synth.camera import Camera, CameraParams
from ...synth.museum import Hanging, MuseumCamera
from .calibration import CALIBRATION_SEED

log = logging.getLogger(__name__)

#: Offset of the seeds of plain works' views (prototypes and checks) from CALIBRATION_SEED.
PLAIN_VIEW_SEEDS = 800_000


@dataclass(frozen=True)
class PlainParams:
    """When an artwork counts as plain, and how its refusal is calibrated."""

    min_keypoints: int = 60  # described by fewer keypoints than this: plain
    prototypes: int = 10  # virtual-camera views of each plain artwork kept as prototypes
    checks: int = 6  # more views, to check the prototypes (reported, not fitted on)
    negatives: int = 48  # easy negatives of the calibration (walls, rooms, textures, pictures)...
    museum_negatives: int = 16  # ...and museum scenes with no guide artwork
    margin: float = 0.85  # accept below this share of the nearest distance any negative came


@dataclass
class PlainIndex:
    """Prototypes of the plain artworks and each one's distance limit."""

    artworks: np.ndarray  # (P,) artwork number of each prototype
    prototypes: np.ndarray  # (P, D) centred, unit-length features
    limits: np.ndarray  # (A,) the largest distance accepted per artwork (0: never)
    center: np.ndarray  # (D,) mean feature of the negatives, subtracted before normalising

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "p_artworks": self.artworks,
            "p_prototypes": self.prototypes.astype(np.float32),
            "p_limits": self.limits,
            "p_center": self.center,
        }

    @classmethod
    def from_arrays(cls, arrays) -> PlainIndex | None:
        if "p_prototypes" not in arrays:
            return None
        return cls(arrays["p_artworks"], arrays["p_prototypes"], arrays["p_limits"], arrays["p_center"])

    def prepare(self, raw: np.ndarray) -> np.ndarray:
        f = raw - self.center
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)

    def nearest(self, features: np.ndarray) -> tuple[int | None, float]:
        """(artwork number or None, score) for a frame's features (one row per crop)."""
        d = np.sqrt(np.maximum(0.0, 2.0 - 2.0 * self.prepare(features) @ self.prototypes.T)).min(axis=0)
        best = int(np.argmin(d))
        a = int(self.artworks[best])
        if d[best] > self.limits[a]:
            return None, 0.0
        return a, float(1.0 - d[best] / max(float(self.limits[a]), 1e-6) / 2)


def query_crops(frame: np.ndarray) -> list[np.ndarray]:
    """What a frame is described by: the whole of it and its central 60% (a work filling the middle)."""
    h, w = frame.shape[:2]
    return [frame, frame[int(h * 0.2) : int(h * 0.8), int(w * 0.2) : int(w * 0.8)]]


def build_plain_index(
    plain: list[int],
    images: dict[int, np.ndarray],
    others: dict[int, tuple[np.ndarray, dict]],
    count: int,
    embedder: Embedder,
    params: PlainParams,
) -> tuple[PlainIndex, dict]:
    """Prototypes of the ``plain`` artworks (``images``: artwork number -> image) and their limits,
    calibrated on negatives: the calibration's easy and museum negatives and views of ``others``
    (the guide's other artworks: number -> (image, detail boxes)). ``count``: artworks in the guide."""
    camera = Camera(CameraParams())

    def embed(frames: list[np.ndarray]) -> np.ndarray:
        return np.stack([embedder.embed(query_crops(f)) for f in frames])  # (N, crops, D)

    negatives = [camera.negative(CALIBRATION_SEED + i).image for i in range(params.negatives)]
    museum = MuseumCamera(Hanging())
    negatives += [
        museum.negative(CALIBRATION_SEED + 10_000 + i).image for i in range(params.museum_negatives)
    ]
    for a, (image, boxes) in others.items():
        negatives += [
            camera.view("other", image, boxes, CALIBRATION_SEED + PLAIN_VIEW_SEEDS + 1000 * a + k).image
            for k in range(2)
        ]
    neg = embed(negatives)
    center = neg.reshape(-1, neg.shape[-1]).mean(axis=0).astype(np.float32)
    index = PlainIndex(
        np.zeros(0, np.int32), np.zeros((0, neg.shape[-1]), np.float32), np.zeros(count, np.float32), center
    )
    protos, owners, checks = [], [], {}
    for a in plain:
        seeds = [
            CALIBRATION_SEED + PLAIN_VIEW_SEEDS + 1000 * a + 100 + k
            for k in range(params.prototypes + params.checks)
        ]
        views = [images[a]] + [camera.view("plain", images[a], {}, s).image for s in seeds]
        feats = embed(views)
        protos.append(index.prepare(feats[: 1 + params.prototypes, 0]))
        owners += [a] * (1 + params.prototypes)
        checks[a] = feats[1 + params.prototypes :]
    index.prototypes = np.concatenate(protos) if protos else index.prototypes
    index.artworks = np.array(owners, np.int32)
    report: dict = {}
    for a in plain:
        own = index.prototypes[index.artworks == a]
        near_neg = min(
            float(np.sqrt(np.maximum(0.0, 2.0 - 2.0 * index.prepare(n) @ own.T)).min()) for n in neg
        )
        # the other plain works are negatives for this one too
        rivals = index.prototypes[index.artworks != a]
        if len(rivals):
            near_neg = min(near_neg, float(np.sqrt(np.maximum(0.0, 2.0 - 2.0 * own @ rivals.T)).min()))
        index.limits[a] = params.margin * near_neg
        check = [
            float(np.sqrt(np.maximum(0.0, 2.0 - 2.0 * index.prepare(c) @ own.T)).min()) for c in checks[a]
        ]
        report[str(a)] = {
            "limit": round(float(index.limits[a]), 4),
            "nearest_negative": round(near_neg, 4),
            "checks_accepted": float(np.mean(np.array(check) <= index.limits[a])) if check else None,
        }
    return index, report
