"""A virtual phone camera: views of an artwork on a wall, with the exact ground truth.

Each view is a homography from the artwork's pixels to the frame (a plane seen under a
perspective of up to ``max_tilt`` degrees), placed over a procedural wall, then degraded by
the photometric pipeline. Since the homography is known, so is where every detail lands:
the benchmark scores recognisers against that, and calibration learns from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ..augment.transforms import photometric
from ..geometry import box_quad, polygon_in_frame, project_quad
from ..vocabulary import Preset
from . import pictures

LANDSCAPE, PORTRAIT = (640, 480), (480, 640)


@dataclass
class DetailTruth:
    """Where a detail lands in a view."""

    visible: float  # fraction of the detail's area inside the frame
    area: float  # its visible area as a fraction of the frame
    box: tuple[float, float, float, float] | None  # x, y, w, h of its visible part


@dataclass
class View:
    """One simulated camera frame and what is in it."""

    image: np.ndarray
    artwork: str | None = None
    kind: str = "whole"  # "whole", "detail" (a close-up of ``focus``) or a negative's kind
    focus: str | None = None
    H: np.ndarray | None = None  # artwork pixels -> frame pixels
    details: dict[str, DetailTruth] = field(default_factory=dict)
    #: What makes the view hard, when it is (museum views: "visitors", "glass", "dim").
    conditions: tuple[str, ...] = ()


#: A visitor's views, as the benchmark draws them by default: whole views of each artwork, and
#: close-ups of each of its details (report views keep the same mix, so their figures count alike).
VIEW_MIX = (10, 3)


@dataclass(frozen=True)
class CameraParams:
    """How views are drawn: tilt, how much of the frame the target fills, degradation."""

    max_tilt: float = 35.0
    whole_fill: tuple[float, float] = (0.45, 0.95)
    detail_fill: tuple[float, float] = (0.55, 0.95)
    max_roll: float = 8.0
    portrait_share: float = 0.4
    offset: float = 0.12  # random shift of the target's centre, as a fraction of the frame
    photometric: str = Preset.MEDIUM


def details_truth(H: np.ndarray, boxes: dict[str, tuple], size: tuple[int, int]) -> dict[str, DetailTruth]:
    """Where each detail box lands in a frame of ``size`` under ``H``."""
    out = {}
    frame_area = float(size[0] * size[1])
    for name, box in boxes.items():
        quad = project_quad(H, box)
        if quad is None or not cv2.isContourConvex(quad):
            out[name] = DetailTruth(0.0, 0.0, None)
            continue
        vis, area, bbox = polygon_in_frame(quad, size)
        out[name] = DetailTruth(vis, area / frame_area, bbox)
    return out


def detail_target(box: tuple, art_size: tuple[int, int], rng: np.random.Generator) -> tuple:
    """What a close-up of a detail frames: its box with a little context (up to 30% each side)."""
    x, y, w, h = box
    m = rng.uniform(0.0, 0.3)
    return (
        max(0, x - w * m),
        max(0, y - h * m),
        min(art_size[0], w * (1 + 2 * m)),
        min(art_size[1], h * (1 + 2 * m)),
    )


def rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """A camera rotation from pitch, yaw and roll in degrees."""
    rx, ry, rz = np.radians([pitch, yaw, roll])
    Rx = np.array([[1, 0, 0], [0, np.cos(rx), -np.sin(rx)], [0, np.sin(rx), np.cos(rx)]])
    Ry = np.array([[np.cos(ry), 0, np.sin(ry)], [0, 1, 0], [-np.sin(ry), 0, np.cos(ry)]])
    Rz = np.array([[np.cos(rz), -np.sin(rz), 0], [np.sin(rz), np.cos(rz), 0], [0, 0, 1]])
    return Rz @ Ry @ Rx


def view_homography(
    art_size: tuple[int, int],
    target: tuple,
    frame: tuple[int, int],
    rng: np.random.Generator,
    params: CameraParams,
    fill: tuple[float, float],
) -> np.ndarray:
    """A homography that shows ``target`` (x, y, w, h in artwork pixels) tilted, centred-ish, filling ``fill``."""
    aw, ah = art_size
    tx, ty, tw, th = target
    cx, cy, s = tx + tw / 2, ty + th / 2, max(tw, th)
    # tilt magnitude: many near-frontal views, some at the limit
    tilt = params.max_tilt * np.sqrt(rng.uniform(0, 1))
    direction = rng.uniform(0, 2 * np.pi)
    R = rotation(tilt * np.cos(direction), tilt * np.sin(direction), rng.normal(0, params.max_roll / 2))
    corners = np.array([[0, 0], [aw, 0], [aw, ah], [0, ah]], np.float64)
    tq = box_quad(target).astype(np.float64)

    def proj(pts):
        p3 = np.c_[(pts[:, 0] - cx) / s, (pts[:, 1] - cy) / s, np.zeros(len(pts))] @ R.T + [0, 0, 2.0]
        return p3[:, :2] / p3[:, 2:3]

    pc, pt = proj(corners), proj(tq)
    fw, fh = frame
    span = pt.max(0) - pt.min(0)
    scale = rng.uniform(*fill) * min(fw / span[0], fh / span[1])
    centre = (pt.max(0) + pt.min(0)) / 2
    shift = np.array([fw, fh]) * (0.5 + rng.uniform(-params.offset, params.offset, 2))
    dst = (pc - centre) * scale + shift
    return cv2.getPerspectiveTransform(corners.astype(np.float32), dst.astype(np.float32))


def render(
    artwork: np.ndarray,
    H: np.ndarray,
    frame: tuple[int, int],
    rng: np.random.Generator,
    background: np.ndarray | None = None,
) -> np.ndarray:
    """Warp the artwork into a frame over a wall, with a picture frame round it."""
    fw, fh = frame
    seed = int(rng.integers(2**31))
    canvas = background.copy() if background is not None else pictures.wall(seed, fw, fh)
    ah, aw = artwork.shape[:2]
    quad = project_quad(H, (0, 0, aw, ah))
    if quad is not None and rng.uniform() < 0.7:  # a picture frame
        colour = tuple(int(v) for v in rng.integers(20, 200, 3))
        thick = int(max(3, rng.uniform(0.01, 0.04) * np.sqrt(abs(cv2.contourArea(quad)))))
        cv2.polylines(canvas, [quad.astype(np.int32)], True, colour, thick * 2, cv2.LINE_AA)
    warped = cv2.warpPerspective(
        artwork, H, (fw, fh), flags=cv2.INTER_AREA if np.linalg.det(H[:2, :2]) < 1 else cv2.INTER_LINEAR
    )
    mask = cv2.warpPerspective(np.full((ah, aw), 255, np.uint8), H, (fw, fh), flags=cv2.INTER_LINEAR)
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    return (warped * alpha + canvas * (1 - alpha)).astype(np.uint8)


def add_glare(image: np.ndarray, rng: np.random.Generator, strength: float = 0.6) -> np.ndarray:
    """A soft specular highlight, as light reflects off varnish or glass."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
    sx, sy = rng.uniform(0.05, 0.2) * w, rng.uniform(0.05, 0.2) * h
    g = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2)) * strength * rng.uniform(0.4, 1.0)
    out = image.astype(np.float32) * (1 - g[..., None]) + 255.0 * g[..., None]
    return out.astype(np.uint8)


class Camera:
    """Draws views of artworks (and empty scenes) deterministically from a seed."""

    def __init__(self, params: CameraParams | None = None):
        self.params = params or CameraParams()
        self._photo = photometric(self.params.photometric)

    def _frame_size(self, rng: np.random.Generator) -> tuple[int, int]:
        return PORTRAIT if rng.uniform() < self.params.portrait_share else LANDSCAPE

    def degrade(self, image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        if rng.uniform() < 0.15:
            image = add_glare(image, rng)
        self._photo.set_random_seed(int(rng.integers(2**31)))
        return self._photo(image=image)["image"]

    def view(
        self,
        artwork_id: str,
        image: np.ndarray,
        boxes: dict[str, tuple],
        seed: int,
        focus: str | None = None,
        degrade: bool = True,
    ) -> View:
        """A view of the whole artwork, or a close-up of detail ``focus`` (``degrade``: photometric
        changes too)."""
        rng = np.random.default_rng(seed)
        frame = self._frame_size(rng)
        ah, aw = image.shape[:2]
        if focus is None:
            target, fill = (0, 0, aw, ah), self.params.whole_fill
        else:
            target, fill = detail_target(boxes[focus], (aw, ah), rng), self.params.detail_fill
        H = view_homography((aw, ah), target, frame, rng, self.params, fill)
        frame_img = render(image, H, frame, rng)
        if degrade:
            frame_img = self.degrade(frame_img, rng)
        return View(
            frame_img,
            artwork_id,
            "whole" if focus is None else "detail",
            focus,
            H,
            details_truth(H, boxes, frame),
        )

    def negative(self, seed: int, degrade: bool = True) -> View:
        """A frame with no guide artwork: wall, room, texture or another picture."""
        rng = np.random.default_rng(seed)
        fw, fh = self._frame_size(rng)
        kind, img = pictures.negative(seed, fw, fh)
        return View(self.degrade(img, rng) if degrade else img, None, kind)
