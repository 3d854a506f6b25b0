"""Descriptors from resampled patches match as OpenCV's SIFT descriptors do, at any rotation and scale."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from smartlens.methods.retrieval.local_features import keypoint_attributes, root_sift
from smartlens.methods.retrieval.patch_descriptor import PatchDescriber
from smartlens.synth.pictures import harbour


def _correct_matches(d1: np.ndarray, d2: np.ndarray, p1: np.ndarray, p2: np.ndarray, H: np.ndarray) -> int:
    """Matches passing Lowe's ratio test that land within 3 px of where ``H`` maps them."""
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(d2, d1, k=2)
    good = [a for a, b in pairs if a.distance < 0.8 * b.distance]
    if not good:
        return 0
    src = p1[[m.trainIdx for m in good]].astype(np.float64)
    dst = p2[[m.queryIdx for m in good]]
    return int(np.sum(np.linalg.norm(cv2.perspectiveTransform(src[None], H)[0] - dst, axis=1) < 3))


@pytest.mark.parametrize(
    "angle,scale,tilt", [(0, 1.0, 0.0), (35, 0.8, 3e-4), (-70, 0.6, 5e-4), (120, 1.3, 2e-4)]
)
def test_patch_descriptors_match_like_opencvs(angle, scale, tilt):
    image = cv2.cvtColor(harbour(3).image, cv2.COLOR_BGR2GRAY)
    h, w = image.shape
    H = np.vstack([cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale), [tilt, 0, 1]])
    rng = np.random.default_rng(0)
    view = cv2.warpPerspective(image, H, (w, h)).astype(np.float32) * 0.9 + 12 + rng.normal(0, 3, (h, w))
    view = np.clip(view, 0, 255).astype(np.uint8)
    sift = cv2.SIFT.create(nfeatures=1000, contrastThreshold=0.02)
    k1, k2 = sift.detect(image, None), sift.detect(view, None)
    (p1, s1, a1), (p2, s2, a2) = keypoint_attributes(k1), keypoint_attributes(k2)
    opencv = _correct_matches(
        root_sift(sift.compute(image, k1)[1]), root_sift(sift.compute(view, k2)[1]), p1, p2, H
    )
    describer = PatchDescriber()
    ours = _correct_matches(
        root_sift(describer.describe(image, p1, s1, a1)),
        root_sift(describer.describe(view, p2, s2, a2)),
        p1,
        p2,
        H,
    )
    assert opencv > 100
    assert ours >= 0.9 * opencv, (ours, opencv)


def test_patch_descriptors_of_no_keypoints_and_shape():
    describer = PatchDescriber()
    image = np.zeros((50, 60), np.uint8)
    assert describer.describe(image, np.zeros((0, 2), np.float32), np.zeros(0), np.zeros(0)).shape == (0, 128)
    # keypoints at the border and of every size (windows beyond the image, coarse pyramid levels)
    pts = np.array([[0, 0], [59, 49], [30, 25]], np.float32)
    desc = describer.describe(
        image + 7, pts, np.array([2.0, 30.0, 400.0], np.float32), np.array([0, 90, 359.9], np.float32)
    )
    assert desc.shape == (3, 128) and np.isfinite(desc).all()
