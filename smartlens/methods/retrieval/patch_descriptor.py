"""SIFT descriptors of a whole frame's keypoints at once, from resampled patches.

OpenCV's ``SIFT.compute`` builds a Gaussian pyramid of the image and then describes keypoints one
by one. Here every keypoint's window is resampled into a small square patch, turned to the
keypoint's orientation, by one ``cv2.remap`` per pyramid level, and the histograms of all patches
come from a few array operations and one small matrix product per orientation. The layout is
SIFT's (4 x 4 cells of 8 orientations over a window of 12 sigma, a Gaussian window of half its
width, bilinear in space and linear in orientation, normalised, clipped at 0.2, normalised
again). For the 1,000 keypoints of a 640 x 480 frame: 6.0 ms on one thread against OpenCV's
18.6 ms on both cores (medians over 120 hard dev frames, 2-core AMD EPYC VM, 2026-12-07). On
warped views it keeps 95-100% of OpenCV's correct matches (``tests/test_patch_descriptor.py``).
"""

from __future__ import annotations

import cv2
import numpy as np

#: SIFT's layout: cells per side, orientations per cell, window side in keypoint sigmas
CELLS, ORIENTATIONS, WINDOW_SIGMAS = 4, 8, 12.0


def _cell_weights(patch: int) -> np.ndarray:
    """(patch * patch, CELLS * CELLS): each patch pixel's share of each cell, SIFT's bilinear
    interpolation between cell centres times its Gaussian window (sigma: half the window)."""
    centre = (np.arange(patch) + 0.5) / patch * CELLS  # in cells, 0..CELLS
    share = np.maximum(0.0, 1.0 - np.abs(centre[:, None] - 0.5 - np.arange(CELLS)[None, :]))
    gauss = np.exp(-((centre - CELLS / 2) ** 2) / (2 * (CELLS / 2) ** 2))
    per_axis = share * gauss[:, None]
    return (
        np.einsum("ia,jb->ijab", per_axis, per_axis).reshape(patch * patch, CELLS * CELLS).astype(np.float32)
    )


class PatchDescriber:
    """128-dimensional SIFT descriptors from ``patch`` x ``patch`` resampled windows.

    16 pixels a side (4 a cell): on warped views of the shared paintings as many correct matches
    as 20 (9,117 and 9,137 against OpenCV's 9,171), in two thirds of its time; on the hard level's
    dev set 99.3% named against 98.7% at 20. Read-only once built: threads share one."""

    def __init__(self, patch: int = 16):
        self.patch = patch
        self._cells = _cell_weights(patch)
        # sample positions of a patch with a one-pixel border (for central differences), in
        # window sides, as rows (1, u, v): one product per keypoint's affine map gives them all
        g = ((np.arange(patch + 2) - (patch + 1) / 2) / patch).astype(np.float32)
        u, v = np.meshgrid(g, g)
        self._grid = np.stack([np.ones_like(u).ravel(), u.ravel(), v.ravel()])

    def describe(
        self, gray: np.ndarray, points: np.ndarray, sizes: np.ndarray, angles: np.ndarray
    ) -> np.ndarray:
        """(N, 128) float32 descriptors of keypoints at ``points`` (pixels of ``gray``) with OpenCV's
        ``size`` (twice the keypoint's sigma) and ``angle`` (degrees, y down)."""
        n, p = len(points), self.patch
        if n == 0:
            return np.zeros((0, CELLS * CELLS * ORIENTATIONS), np.float32)
        side = (WINDOW_SIGMAS / 2) * np.asarray(sizes, np.float32)
        # each window is sampled from the pyramid level where a patch pixel spans at least one
        # image pixel: the level's own smoothing keeps it from aliasing
        level = np.clip(np.floor(np.log2(np.maximum(side / p, 1e-6))), 0, 8).astype(int)
        pyramid: list[np.ndarray] = [gray.astype(np.float32)]
        while len(pyramid) <= level.max():
            pyramid.append(cv2.pyrDown(pyramid[-1]))
        theta = np.deg2rad(np.asarray(angles, np.float32))
        cos, sin = np.cos(theta), np.sin(theta)
        patches = np.empty((n, (p + 2) * (p + 2)), np.float32)
        for lv in np.unique(level):
            k = np.flatnonzero(level == lv)
            scale = np.float32(0.5**lv)
            s = side[k] * scale
            cx = (points[k, 0] + 0.5) * scale - 0.5  # pixel centres keep their place across levels
            cy = (points[k, 1] + 0.5) * scale - 0.5
            map_x = np.stack([cx, s * cos[k], -s * sin[k]], 1) @ self._grid
            map_y = np.stack([cy, s * sin[k], s * cos[k]], 1) @ self._grid
            patches[k] = cv2.remap(
                pyramid[lv],
                map_x.reshape(-1, p + 2),
                map_y.reshape(-1, p + 2),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REPLICATE,
            ).reshape(len(k), -1)
        return self._histograms(patches.reshape(n, p + 2, p + 2))

    def _histograms(self, patches: np.ndarray) -> np.ndarray:
        n, p = len(patches), self.patch
        dx = patches[:, 1:-1, 2:] - patches[:, 1:-1, :-2]
        dy = patches[:, 2:, 1:-1] - patches[:, :-2, 1:-1]
        magnitude, angle = cv2.cartToPolar(dx.reshape(-1, p), dy.reshape(-1, p))
        magnitude = magnitude.reshape(n, p * p)
        o = (angle * np.float32(ORIENTATIONS / (2 * np.pi))).reshape(n, p * p)  # in bins, 0..8
        out = np.empty((ORIENTATIONS, n, CELLS * CELLS), np.float32)
        for b in range(ORIENTATIONS):
            # a gradient's share of bin b: 1 - its distance from it in bins, around the circle
            d = np.abs(o - np.float32(b))
            if b == 0:
                d = np.minimum(d, ORIENTATIONS - d)
            elif b == ORIENTATIONS - 1:
                d = np.minimum(d, o + 1)
            out[b] = (np.maximum(1 - d, 0) * magnitude) @ self._cells
        desc = np.ascontiguousarray(out.transpose(1, 2, 0)).reshape(n, -1)  # cell-major, as SIFT's
        desc /= np.linalg.norm(desc, axis=1, keepdims=True) + 1e-7
        np.minimum(desc, 0.2, out=desc)  # SIFT's clip: no single strong edge dominates
        desc /= np.linalg.norm(desc, axis=1, keepdims=True) + 1e-7
        return desc
