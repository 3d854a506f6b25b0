"""A camera-like clip for the lens' benchmarks: real paintings hung on synthetic walls, a slow
pan/zoom with hand shake, a cut to another painting every few seconds."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..guide import GuideRef
from ..imaging import fit_within, read_image
from ..synth import pictures
from ..synth.camera import CameraParams, view_homography

FRAME = (640, 480)


@dataclass
class Clip:
    """Camera frames (BGR, 640x480) and which artwork each one frames."""

    frames: np.ndarray  # (n, 480, 640, 3) uint8
    artworks: list[str]
    fps: float

    def cuts(self) -> list[int]:
        """Indices of the frames where a new artwork comes into view."""
        return [i for i, a in enumerate(self.artworks) if i == 0 or a != self.artworks[i - 1]]


def camera_clip(ref: GuideRef, fps: float = 10.0, seconds_each: float = 3.0, seed: int = 7) -> Clip:
    """Each artwork of ``ref`` in turn: a slow pan/zoom between two random poses, with shake."""
    rng = np.random.default_rng(seed)
    params = CameraParams(max_tilt=25.0)
    per = max(2, int(round(seconds_each * fps)))
    arts = ref.guide.artworks
    frames = np.empty((per * len(arts), FRAME[1], FRAME[0], 3), np.uint8)
    names: list[str] = []
    for a, art in enumerate(arts):
        image, _ = fit_within(read_image(ref.path(art.image)), 900)
        h, w = image.shape[:2]
        src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
        ends = [
            cv2.perspectiveTransform(
                src[None], view_homography((w, h), (0, 0, w, h), FRAME, rng, params, (0.55, 0.9))
            )[0]
            for _ in range(2)
        ]
        wall = pictures.wall(seed + a, *FRAME)
        # sensor noise, one pattern per artwork shifted each frame (cheap, and never the same twice)
        noise = rng.integers(-4, 5, (FRAME[1], FRAME[0] + per, 3), dtype=np.int16)
        for j in range(per):
            t = j / (per - 1)
            t = t * t * (3 - 2 * t)  # ease in and out, as a hand does
            quad = (ends[0] * (1 - t) + ends[1] * t + rng.normal(0, 1.5, (4, 2))).astype(np.float32)
            H = cv2.getPerspectiveTransform(src, quad)
            frame = cv2.warpPerspective(
                image, H, FRAME, dst=wall.copy(), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_TRANSPARENT
            )
            frame = np.clip(frame.astype(np.int16) + noise[:, j : j + FRAME[0]], 0, 255)
            frames[a * per + j] = frame.astype(np.uint8)
            names.append(art.id)
    return Clip(frames, names, fps)


def clip_yardstick(clip: Clip, n: int = 20) -> dict[str, float]:
    """The yardstick (a plain SIFT extraction) timed on ``n`` of the clip's frames."""
    from ..synth.camera import View
    from .recognition import yardstick

    step = max(1, len(clip.frames) // n)
    return yardstick([View(clip.frames[i]) for i in range(0, len(clip.frames), step)])
