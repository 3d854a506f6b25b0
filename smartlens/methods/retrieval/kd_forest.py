"""OpenCV's FLANN index, built the same way every time."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np


def flann_index(data: np.ndarray, params: dict[str, Any]) -> cv2.flann.Index:
    """A FLANN index of ``data`` (rows) with ``params`` (e.g. a k-d forest: algorithm 1, trees).

    A randomised k-d forest draws its split dimensions from the building thread's OpenCV random
    generator, whose state depends on whatever ran before: the same guide then matched a frame
    with 8 inliers in one process and 12 in another. Seeding it first makes an index, and so every
    recognition and benchmark figure, reproducible."""
    cv2.setRNGSeed(0)
    return cv2.flann.Index(data, params)
