"""Following a recognised artwork from frame to frame, cheaply, between full recognitions.

Verified retrieval gives the artwork's homography (artwork pixels -> frame) and the keypoints
that agreed with it. The tracker keeps those points, plus corners found inside the artwork's
outline, each with its position in the artwork; every frame it moves them with pyramidal
Lucas-Kanade optical flow (on a half-size grey frame: a few milliseconds), and fits the
homography again, with RANSAC, from the points' *artwork* positions to where they are now, so
the pose never drifts by composing frame-to-frame motions. It gives up, with a reason, when too
few points survive, when they no longer agree on one plane, or when the outline leaves the frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..geometry import polygon_in_frame, project_quad
from ..recognition.result import Pose

#: Why tracking stopped.
FEW_POINTS, REPROJECTION, LEFT_FRAME = "few points", "large reprojection error", "outline left the frame"
RESIZED = "frame size changed"  # the phone turned, or the browser changed the resolution


@dataclass(frozen=True)
class TrackerParams:
    max_points: int = 100  # points followed at most
    min_points: int = 14  # fewer agreeing points than this: lost
    weak_points: int = 30  # fewer than this: still tracked, but a full recognition is wanted
    refill_below: float = 0.6  # top up with new corners below this share of max_points
    side: int = 320  # flow runs on the frame scaled to this longer side (its points in frame px)
    window: int = 15  # Lucas-Kanade window (px of the scaled frame), pyramid levels, iterations
    levels: int = 2
    iterations: int = 10
    ransac_px: float = 3.0  # in frame px
    max_error_px: float = 2.0  # mean reprojection error of the agreeing points above this: lost
    min_agree: float = 0.5  # share of the surviving points that must agree on the homography
    min_frame_share: float = 0.03  # the visible part of the outline must cover this much of the frame
    corner_quality: float = 0.01
    corner_spacing: int = 5  # px of the scaled frame


@dataclass
class TrackUpdate:
    """One frame's outcome: a pose, or why tracking stopped."""

    pose: Pose | None
    lost: str | None = None
    weak: bool = False
    error_px: float = 0.0


class Tracker:
    """Follows one planar artwork: :meth:`start` from a recognition's pose, :meth:`update` per frame."""

    def __init__(self, params: TrackerParams | None = None):
        self.params = params or TrackerParams()
        self._prev: np.ndarray | None = None  # the last frame, grey and scaled
        self._scale = 1.0
        self._size: tuple[int, int] = (0, 0)  # artwork width, height
        self._art = np.zeros((0, 2), np.float32)  # followed points, in artwork pixels...
        self._frm = np.zeros((0, 1, 2), np.float32)  # ...and where they are in the last frame
        self.H: np.ndarray | None = None

    @property
    def active(self) -> bool:
        return self.H is not None

    def stop(self) -> None:
        self.H, self._prev = None, None
        self._art, self._frm = np.zeros((0, 2), np.float32), np.zeros((0, 1, 2), np.float32)

    def start(self, gray: np.ndarray, pose: Pose) -> bool:
        """Begin following the artwork at ``pose`` in ``gray`` (the frame it was recognised in)."""
        self.stop()
        self.H = np.asarray(pose.H, np.float64)
        self._size = (int(pose.size[0]), int(pose.size[1]))
        art = np.asarray(pose.artwork_points, np.float32).reshape(-1, 2)
        frm = np.asarray(pose.frame_points, np.float32).reshape(-1, 2)
        # a recognition's inliers may sit a few pixels off its homography (RANSAC's tolerance); a
        # point followed from an artwork position that far off pulls every later fit with it (on a
        # 24-frame path, 2 such points of 62 let the outline drift 15 px): keep those that agree
        # with the pose as closely as the tracker's fits must
        keep = _inside(frm, gray.shape)
        if len(art):
            moved = cv2.perspectiveTransform(art[:, None], self.H).reshape(-1, 2)
            keep &= np.linalg.norm(moved - frm, axis=1) < self.params.max_error_px
        self._art, self._frm = art[keep][: self.params.max_points], frm[keep][: self.params.max_points, None]
        small = self._small(gray)
        self._refill(small)
        if len(self._art) < self.params.min_points:
            self.stop()
            return False
        self._prev = small
        return True

    def update(self, gray: np.ndarray) -> TrackUpdate:
        """Move the points to ``gray`` and fit the pose again; a lost track stops itself."""
        p = self.params
        if self.H is None or self._prev is None:
            return TrackUpdate(None, FEW_POINTS)
        small = self._small(gray)
        if small.shape != self._prev.shape:
            return self._lose(RESIZED)
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, p.iterations, 0.03)
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(  # type: ignore[call-overload]
            self._prev,
            small,
            self._frm * self._scale,
            None,
            winSize=(p.window, p.window),
            maxLevel=p.levels,
            criteria=crit,
        )
        if nxt is None:
            return self._lose(FEW_POINTS)
        nxt = nxt / self._scale
        # outliers (occlusion, a point sliding along an edge) are left to RANSAC below
        ok = (st.ravel() == 1) & _inside(nxt.reshape(-1, 2), gray.shape)
        if ok.sum() < p.min_points:
            return self._lose(FEW_POINTS)
        art, frm = self._art[ok], nxt[ok]
        H, mask = cv2.findHomography(art, frm, cv2.RANSAC, p.ransac_px, maxIters=500, confidence=0.99)
        if H is None or mask is None:
            return self._lose(REPROJECTION)
        agree = mask.ravel().astype(bool)
        if agree.sum() < p.min_points:
            return self._lose(FEW_POINTS)
        if agree.mean() < p.min_agree:
            return self._lose(REPROJECTION)
        proj = cv2.perspectiveTransform(art[agree][:, None], H)
        error = float(np.mean(np.linalg.norm((proj - frm[agree]).reshape(-1, 2), axis=1)))
        if error > p.max_error_px:
            return self._lose(REPROJECTION, error)
        w, h = self._size
        quad = project_quad(H, (0, 0, w, h), max_w_ratio=4.0)
        frame_size = (gray.shape[1], gray.shape[0])
        if quad is None or not cv2.isContourConvex(quad):
            return self._lose(LEFT_FRAME, error)
        _, area, _ = polygon_in_frame(quad, frame_size)
        if area < p.min_frame_share * frame_size[0] * frame_size[1]:
            return self._lose(LEFT_FRAME, error)
        self.H, self._prev = H, small
        self._art, self._frm = art[agree], frm[agree]
        if len(self._art) < p.refill_below * p.max_points:
            self._refill(small, quad)
        pose = Pose(H, self._size, self._art.copy(), self._frm.reshape(-1, 2).copy())
        return TrackUpdate(pose, None, int(agree.sum()) < p.weak_points, error)

    def _lose(self, reason: str, error: float = 0.0) -> TrackUpdate:
        self.stop()
        return TrackUpdate(None, reason, error_px=error)

    def _small(self, gray: np.ndarray) -> np.ndarray:
        self._scale = min(1.0, self.params.side / max(gray.shape[:2]))
        if self._scale == 1.0:
            return gray
        size = (round(gray.shape[1] * self._scale), round(gray.shape[0] * self._scale))
        return cv2.resize(gray, size, interpolation=cv2.INTER_AREA)

    def _refill(self, small: np.ndarray, quad: np.ndarray | None = None) -> None:
        """Add corners inside the visible outline (``small``: the scaled frame), away from the
        points already followed."""
        p = self.params
        if self.H is None:
            return
        want = p.max_points - len(self._art)
        if want <= 0:
            return
        if quad is None:
            quad = project_quad(self.H, (0, 0, *self._size))
            if quad is None:
                return
        h, w = small.shape[:2]
        mask = np.zeros((h, w), np.uint8)
        # a little inside the outline: the picture frame's edge moves with the wall, not the paint
        centre = quad.mean(axis=0)
        inner = ((quad - centre) * 0.96 + centre) * self._scale
        cv2.fillConvexPoly(mask, inner.astype(np.int32), 255)
        for x, y in (self._frm.reshape(-1, 2) * self._scale).astype(int):
            cv2.circle(mask, (int(x), int(y)), p.corner_spacing, 0, -1)
        corners = cv2.goodFeaturesToTrack(
            small, want, p.corner_quality, p.corner_spacing, mask=mask, blockSize=5
        )
        if corners is None:
            return
        corners = corners.reshape(-1, 2).astype(np.float32) / self._scale
        art = cv2.perspectiveTransform(corners[:, None], np.linalg.inv(self.H)).reshape(-1, 2)
        self._art = np.concatenate([self._art, art.astype(np.float32)])
        self._frm = np.concatenate([self._frm, corners[:, None]])


def _inside(points: np.ndarray, shape: tuple[int, ...], margin: float = 2.0) -> np.ndarray:
    h, w = shape[:2]
    return (
        (points[:, 0] >= margin)
        & (points[:, 0] < w - margin)
        & (points[:, 1] >= margin)
        & (points[:, 1] < h - margin)
    )
