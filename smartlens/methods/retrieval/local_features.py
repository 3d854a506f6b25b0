"""Local features (SIFT with the RootSIFT mapping): what geometric verification matches."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ...imaging import fit_within
from .patch_descriptor import PatchDescriber


@dataclass
class Features:
    """Keypoint positions (N x 2, in the caller's pixel coordinates) and descriptors (N x 128)."""

    points: np.ndarray
    descriptors: np.ndarray

    @staticmethod
    def empty() -> Features:
        return Features(np.zeros((0, 2), np.float32), np.zeros((0, 128), np.float32))

    def __len__(self) -> int:
        return len(self.points)

    def part(self, start: int, stop: int | None = None) -> Features:
        """Keypoints ``start`` to ``stop`` (the strongest come first from the frame extractors)."""
        return Features(self.points[start:stop], self.descriptors[start:stop])


def root_sift(desc: np.ndarray) -> np.ndarray:
    """RootSIFT (Arandjelovic & Zisserman 2012): L1-normalise then square-root; L2 then compares
    like the Hellinger kernel, which matches markedly better than raw SIFT."""
    desc = desc.astype(np.float32)
    desc /= desc.sum(axis=1, keepdims=True) + 1e-7
    return np.sqrt(desc)


class SiftExtractor:
    """SIFT keypoints and RootSIFT descriptors from a BGR image, at a bounded resolution; with
    ``patches``, described by :class:`~.patch_descriptor.PatchDescriber` instead of OpenCV.

    Safe to call from several threads at once: each thread gets its own OpenCV detectors."""

    def __init__(
        self, max_features: int = 1000, max_side: int = 640, contrast: float = 0.02, patches: bool = False
    ):
        self.max_features = max_features
        self.max_side = max_side
        self.contrast = contrast
        self.patches = PatchDescriber() if patches else None
        self._local = threading.local()  # per thread: {feature budget: detector}

    def extract(
        self, image_bgr: np.ndarray, max_side: int | None = None, max_features: int | None = None
    ) -> Features:
        """Features of ``image_bgr``; points are returned in ``image_bgr``'s own pixel coordinates."""
        gray = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        small, scale = fit_within(gray, max_side or self.max_side)
        n = max_features or self.max_features
        sifts: dict[int, cv2.SIFT] = self._local.__dict__.setdefault("sifts", {})
        if n not in sifts:  # one detector per feature budget, all with the same settings
            sifts[n] = cv2.SIFT.create(nfeatures=n, contrastThreshold=self.contrast)
        sift = sifts[n]
        if self.patches is not None:
            kps = sift.detect(small, None)
            if not kps:
                return Features.empty()
            pts, sizes, angles = keypoint_attributes(kps)
            return Features(pts / scale, root_sift(self.patches.describe(small, pts, sizes, angles)))
        kps, desc = sift.detectAndCompute(small, None)
        if desc is None or not kps:
            return Features.empty()
        pts = keypoint_xy(kps) / scale
        return Features(pts, root_sift(desc))


def keypoint_xy(kps: Sequence[cv2.KeyPoint]) -> np.ndarray:
    """(N, 2) float32 positions of ``kps``, converted in C (a Python loop would hold the GIL)."""
    # the stubs shipped with opencv-python do not declare KeyPoint_convert
    return cv2.KeyPoint_convert(kps)  # type: ignore[attr-defined]


def keypoint_attributes(kps: Sequence[cv2.KeyPoint]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (N, 2), sizes (N,) and angles in degrees (N,) of ``kps``: what
    :class:`~.patch_descriptor.PatchDescriber` describes."""
    sizes = np.fromiter((k.size for k in kps), np.float32, len(kps))
    angles = np.fromiter((k.angle for k in kps), np.float32, len(kps))
    return keypoint_xy(kps).reshape(-1, 2), sizes, angles


def _octave_up(kps: list[cv2.KeyPoint]) -> list[cv2.KeyPoint]:
    """The same keypoints in an image twice as large: position and size doubled, one octave up.

    Changed in place (they are fresh from ``detect``): half the Python time of new KeyPoints, and
    Python time is what keeps recognitions of different visitors from running side by side."""
    for kp in kps:
        packed = kp.octave
        octave = packed & 255
        octave = octave - 256 if octave >= 128 else octave
        x, y = kp.pt
        kp.pt, kp.size, kp.octave = (x * 2, y * 2), kp.size * 2, (packed & ~255) | ((octave + 1) & 255)
    return kps


def spread(
    points: np.ndarray,
    response: np.ndarray,
    size: tuple[int, int],
    n: int,
    cells: tuple[int, int],
    cap: float,
) -> np.ndarray:
    """Indices of at most ``n`` keypoints, strongest first, with no cell of a ``cells`` grid over
    an image of ``size`` giving more than ``cap`` times its even share: a busy wall or frame can no
    longer take the whole budget away from the artwork beside it (when keypoints crowd a few cells,
    fewer than ``n`` are kept, which also saves describing them)."""
    if len(points) <= n:
        return np.argsort(-response)
    cx = np.clip((points[:, 0] * cells[0] / size[0]).astype(int), 0, cells[0] - 1)
    cy = np.clip((points[:, 1] * cells[1] / size[1]).astype(int), 0, cells[1] - 1)
    cell = cy * cells[0] + cx
    order = np.lexsort((-response, cell))  # by cell, strongest first within each
    sorted_cells = cell[order]
    starts = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order)) - starts
    limit = max(1, int(np.ceil(cap * n / (cells[0] * cells[1]))))
    kept = np.flatnonzero(rank < limit)
    return kept[np.argsort(-response[kept])][:n]


class SharpSiftExtractor:
    """SIFT for camera frames at a third of plain SIFT's cost, keypoints spread over the frame.

    OpenCV's SIFT doubles the image before building its pyramid, and that first octave is most of
    its work. Here keypoints are found on the frame at half of ``max_side`` (doubled inside, as
    usual: the same scales as plain SIFT at ``max_side``), then described on the frame at
    ``max_side`` itself, where they sit one octave up and no doubling is needed: descriptors from
    real pixels, not interpolated ones. Between the two steps the keypoints are chosen
    (:func:`spread`), so a textured wall or frame cannot take the whole budget. With ``patches``
    they are described by :class:`~.patch_descriptor.PatchDescriber` instead of OpenCV.
    """

    def __init__(
        self,
        max_features: int = 800,
        max_side: int = 640,
        contrast: float = 0.02,
        cells: tuple[int, int] = (6, 6),
        cap: float = 2.5,
        patches: bool = False,
    ):
        self.max_features, self.max_side, self.contrast = max_features, max_side, contrast
        self.cells, self.cap = cells, cap
        self.patches = PatchDescriber() if patches else None
        self._local = threading.local()  # one OpenCV detector per thread: recognitions run in parallel

    def _detector(self) -> cv2.SIFT:
        sift = getattr(self._local, "sift", None)
        if sift is None:
            sift = self._local.sift = cv2.SIFT.create(nfeatures=0, contrastThreshold=self.contrast)
        return sift

    def extract(self, image_bgr: np.ndarray) -> Features:
        """Features of ``image_bgr``; points in its own pixel coordinates (safe from several threads)."""
        sift = self._detector()
        gray = image_bgr if image_bgr.ndim == 2 else cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY)
        sharp, scale = fit_within(gray, self.max_side)
        small = cv2.resize(sharp, (sharp.shape[1] // 2, sharp.shape[0] // 2), interpolation=cv2.INTER_AREA)
        chosen = self._chosen(sift, small)
        if not chosen:
            return Features.empty()
        if self.patches is not None:
            pts, sizes, angles = keypoint_attributes(chosen)
            pts = pts * 2 + 0.5  # a half-size pixel's centre in the full frame
            return Features(pts / scale, root_sift(self.patches.describe(sharp, pts, sizes * 2, angles)))
        kps, desc = sift.compute(sharp, _octave_up(chosen))
        if desc is None or not kps:
            return Features.empty()
        pts = keypoint_xy(kps) / scale
        return Features(pts, root_sift(desc))

    def _chosen(self, sift: cv2.SIFT, image: np.ndarray) -> list[cv2.KeyPoint]:
        """Keypoints of ``image``, spread over it (:func:`spread`)."""
        kps = sift.detect(image, None)
        if not kps:
            return []
        keep = spread(
            keypoint_xy(kps),
            np.array([k.response for k in kps], np.float32),
            (image.shape[1], image.shape[0]),
            self.max_features,
            self.cells,
            self.cap,
        )
        return [kps[i] for i in keep]
