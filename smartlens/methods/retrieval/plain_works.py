"""Artworks with too little texture for local features: named by their outline and look instead.

A black painting, a gold ground, a monochrome gives SIFT almost no keypoints, so geometric
verification can never name it. What such a work still shows a camera is a flat quadrilateral
(its edge, or its frame's) and its colour. For those artworks (fewer than ``min_keypoints`` in the
index), verified retrieval keeps *prototypes*: a global descriptor (colour, texture, proportions)
of the work's own image and of its outline found in virtual-camera views. When local features name
nothing, the frame's quadrilaterals (:func:`quads`) are rectified and described the same way; the
nearest plain work is named only when a quadrilateral comes nearer to it than anything in the
calibration's negatives came (walls, rooms, textures, other pictures, museum scenes, the guide's
other artworks, the other plain works), by a margin: its own open-set refusal, calibrated on
negatives only. It needs no pretrained weights.

(The pretrained embedder's features were tried first, on the middle of the frame: on these works
they told a work's own views from negatives no better than chance, the features of a flat picture
being mostly those of its noise.)
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...imaging import fit_within
from ...synth.camera import Camera, CameraParams
from ...synth.museum import Hanging, MuseumCamera
from .calibration import CALIBRATION_SEED

#: Offset of the seeds of plain works' views (prototypes and checks) from CALIBRATION_SEED.
PLAIN_VIEW_SEEDS = 800_000
#: Width of the rectified patch a quadrilateral is described from.
PATCH = 64


@dataclass(frozen=True)
class PlainParams:
    """When an artwork counts as plain, and how its refusal is calibrated."""

    min_keypoints: int = 60  # described by fewer keypoints than this: plain
    prototypes: int = 12  # virtual-camera views of each plain artwork kept as prototypes
    checks: int = 8  # more views, to check the prototypes (reported, not fitted on)
    # negatives of the calibration (walls, rooms, textures, pictures; cheap to describe, so many:
    # the limit is only as good as the nearest negative found)...
    negatives: int = 400
    museum_negatives: int = 24  # ...and museum scenes with no guide artwork
    margin: float = 0.8  # accept below this share of the nearest distance any negative came


def quads(frame: np.ndarray, most: int = 6) -> list[np.ndarray]:
    """The largest convex quadrilaterals outlined in ``frame`` (4 x 2 corners each, frame pixels):
    where a framed picture, plain or not, may be."""
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    small, scale = fit_within(gray, 320)
    edges = cv2.dilate(cv2.Canny(cv2.GaussianBlur(small, (5, 5), 0), 20, 60), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    total = small.shape[0] * small.shape[1]
    found = []
    for c in contours:
        area = cv2.contourArea(c)
        if not 0.04 * total <= area <= 0.95 * total:
            continue
        hull = cv2.convexHull(c)
        if area < 0.85 * cv2.contourArea(hull):
            continue
        q = cv2.approxPolyDP(hull, 0.04 * cv2.arcLength(hull, True), True)
        if len(q) == 4:
            found.append((area, q.reshape(4, 2).astype(np.float32) / scale))
    found.sort(key=lambda t: -t[0])
    return [q for _, q in found[:most]]


def clockwise(q: np.ndarray) -> np.ndarray:
    """A quadrilateral's corners clockwise (in image coordinates) from the top-left one."""
    c = q.mean(axis=0)
    q = q[np.argsort(np.arctan2(q[:, 1] - c[1], q[:, 0] - c[0]))]
    return np.roll(q, -int(np.argmin(q.sum(axis=1))), axis=0)


def describe_quad(frame: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """A global descriptor of what ``quad`` outlines: the colour (mean and spread, CIELAB) and
    texture of its inside, rectified, and its proportions; scaled so that units are comparable."""
    q = clockwise(np.asarray(quad, np.float32))
    w = (np.linalg.norm(q[1] - q[0]) + np.linalg.norm(q[2] - q[3])) / 2
    h = (np.linalg.norm(q[3] - q[0]) + np.linalg.norm(q[2] - q[1])) / 2
    c = q.mean(axis=0)
    inner = (c + (q - c) * 0.85).astype(np.float32)  # inside the frame's edge
    square = np.array([[0, 0], [PATCH, 0], [PATCH, PATCH], [0, PATCH]], np.float32)
    patch = cv2.warpPerspective(frame, cv2.getPerspectiveTransform(inner, square), (PATCH, PATCH))
    lab = cv2.cvtColor(patch, cv2.COLOR_BGR2LAB).reshape(-1, 3).astype(np.float32)
    gray = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY).astype(np.float32)
    texture = (
        np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)).mean() + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1)).mean()
    )
    mean, spread = lab.mean(axis=0), lab.std(axis=0)
    return np.r_[
        mean[0] / 8,
        (mean[1] - 128) / 4,
        (mean[2] - 128) / 4,
        spread / 4,
        texture / 4,
        10 * np.log(float(w) / max(float(h), 1.0)),
    ].astype(np.float32)


def whole_quad(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)


@dataclass
class PlainIndex:
    """Prototypes of the plain artworks and each one's distance limit."""

    artworks: np.ndarray  # (P,) artwork number of each prototype
    prototypes: np.ndarray  # (P, D) descriptors (describe_quad)
    limits: np.ndarray  # (A,) the largest distance accepted per artwork (0: never)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"p_artworks": self.artworks, "p_prototypes": self.prototypes, "p_limits": self.limits}

    @classmethod
    def from_arrays(cls, arrays) -> PlainIndex | None:
        if "p_prototypes" not in arrays:
            return None
        return cls(arrays["p_artworks"], arrays["p_prototypes"], arrays["p_limits"])

    def distances(self, descriptor: np.ndarray) -> np.ndarray:
        """Distance of ``descriptor`` to each prototype."""
        return np.linalg.norm(self.prototypes - descriptor, axis=1)

    def nearest(self, frame: np.ndarray) -> tuple[int | None, float, np.ndarray | None]:
        """(artwork number or None, score, its quadrilateral) for a frame."""
        best: tuple[int | None, float, np.ndarray | None] = (None, 0.0, None)
        margin = 1.0
        for q in quads(frame):
            d = self.distances(describe_quad(frame, q))
            i = int(np.argmin(d))
            a = int(self.artworks[i])
            share = float(d[i] / max(float(self.limits[a]), 1e-6))
            if share <= 1.0 and share < margin:
                best, margin = (a, float(1.0 - share / 2), q), share
        return best


def build_plain_index(
    plain: list[int],
    images: dict[int, np.ndarray],
    others: dict[int, tuple[np.ndarray, dict]],
    count: int,
    params: PlainParams,
) -> tuple[PlainIndex, dict[int, dict]]:
    """Prototypes of the ``plain`` artworks (``images``: artwork number -> image) and their limits,
    calibrated on negatives: the calibration's easy and museum negatives, views of ``others`` (the
    guide's other artworks: number -> (image, detail boxes)) and the other plain works' prototypes.
    ``count``: artworks in the guide. Returns the index and, per plain artwork, its figures."""
    camera = Camera(CameraParams())
    frames = [camera.negative(CALIBRATION_SEED + i).image for i in range(params.negatives)]
    museum = MuseumCamera(Hanging())
    frames += [museum.negative(CALIBRATION_SEED + 10_000 + i).image for i in range(params.museum_negatives)]
    for a, (image, boxes) in others.items():
        frames += [
            camera.view("other", image, boxes, CALIBRATION_SEED + PLAIN_VIEW_SEEDS + 1000 * a + k).image
            for k in range(2)
        ]
    negatives = [describe_quad(f, q) for f in frames for q in quads(f)]
    protos: list[np.ndarray] = []
    owners: list[int] = []
    checks: dict[int, list[np.ndarray]] = {}
    for a in plain:
        image = images[a]
        corners = whole_quad(image)
        own = [describe_quad(image, corners)]
        checks[a] = []
        for k in range(params.prototypes + params.checks):
            view = camera.view("plain", image, {}, CALIBRATION_SEED + PLAIN_VIEW_SEEDS + 1000 * a + 100 + k)
            assert view.H is not None
            truth = clockwise(cv2.perspectiveTransform(corners[None], view.H)[0])
            found = [
                q
                for q in quads(view.image)
                if np.abs(clockwise(q) - truth).max() < 0.1 * max(view.image.shape)
            ]
            if k < params.prototypes:
                own += [describe_quad(view.image, q) for q in found[:1]]
            else:
                checks[a].append(view.image)
        protos += own
        owners += [a] * len(own)
    index = PlainIndex(
        np.array(owners, np.int32),
        np.array(protos, np.float32).reshape(len(protos), -1),
        np.zeros(count, np.float32),
    )
    nearest: dict[int, float] = {}
    for a in plain:
        mine = index.artworks == a
        rivals = negatives + list(index.prototypes[~mine])
        nearest[a] = min((float(index.distances(n)[mine].min()) for n in rivals), default=float("inf"))
        index.limits[a] = params.margin * nearest[a] if np.isfinite(nearest[a]) and mine.any() else 0.0
    report: dict[int, dict] = {}
    for a in plain:
        named = [index.nearest(f)[0] == a for f in checks[a]]
        report[a] = {
            "limit": round(float(index.limits[a]), 3),
            "nearest_negative": round(nearest[a], 3),
            "checks_named": float(np.mean(named)) if named else None,
        }
    return index, report
