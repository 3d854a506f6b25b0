"""Local features (SIFT with the RootSIFT mapping): what geometric verification matches."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from ...imaging import fit_within


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


def root_sift(desc: np.ndarray) -> np.ndarray:
    """RootSIFT (Arandjelovic & Zisserman 2012): L1-normalise then square-root; L2 then compares
    like the Hellinger kernel, which matches markedly better than raw SIFT."""
    desc = desc.astype(np.float32)
    desc /= desc.sum(axis=1, keepdims=True) + 1e-7
    return np.sqrt(desc)


class SiftExtractor:
    """SIFT keypoints and RootSIFT descriptors from a BGR image, at a bounded resolution.

    Safe to call from several threads at once: each thread gets its own OpenCV detectors."""

    def __init__(self, max_features: int = 1000, max_side: int = 640, contrast: float = 0.02):
        self.max_features = max_features
        self.max_side = max_side
        self.contrast = contrast
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
        kps, desc = sift.detectAndCompute(small, None)
        if desc is None or not kps:
            return Features.empty()
        pts = np.array([k.pt for k in kps], np.float32) / scale
        return Features(pts, root_sift(desc))
