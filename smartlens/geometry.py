"""Plane geometry shared by recognition, the virtual camera and the benchmarks: boxes, quads,
homographies and what part of a shape a frame shows."""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # x, y, width, height in pixels
IntBox = tuple[int, int, int, int]  # the same, in whole pixels of an image


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of corner boxes ``(x0, y0, x1, y1)``: (N, 4) x (M, 4) -> (N, M)."""
    a, b = np.asarray(a, np.float64)[:, None], np.asarray(b, np.float64)[None]
    lo = np.maximum(a[..., :2], b[..., :2])
    hi = np.minimum(a[..., 2:], b[..., 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[..., 2:] - a[..., :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[..., 2:] - b[..., :2], 0, None), axis=-1)
    return inter / np.maximum(area_a + area_b - inter, 1e-12)


def box_corners(box: Box) -> np.ndarray:
    """An ``(x, y, w, h)`` box as one row of corners ``[[x0, y0, x1, y1]]``."""
    x, y, w, h = box
    return np.array([[x, y, x + w, y + h]], np.float64)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    return float(iou(box_corners(a), box_corners(b))[0, 0])


def int_box(values: object) -> IntBox:
    """Four numbers (x, y, width, height) rounded to whole pixels."""
    x, y, w, h = (int(round(float(v))) for v in values)  # type: ignore[attr-defined]
    return x, y, w, h


def float_box(values: object) -> Box:
    """Four numbers (x, y, width, height) as floats."""
    x, y, w, h = (float(v) for v in values)  # type: ignore[attr-defined]
    return x, y, w, h


def polygon_in_frame(quad: np.ndarray, size: tuple[int, int]) -> tuple[float, float, Box | None]:
    """(visible fraction, visible area in px, bbox of the visible part) of a convex quad."""
    w, h = size
    quad = np.asarray(quad, np.float32).reshape(-1, 2)
    total = abs(cv2.contourArea(quad))
    if total < 1e-6:
        return 0.0, 0.0, None
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    inter, poly = cv2.intersectConvexConvex(quad, frame)
    if inter <= 0 or poly is None:
        return 0.0, 0.0, None
    poly = poly.reshape(-1, 2)
    x0, y0 = poly.min(0)
    x1, y1 = poly.max(0)
    return float(inter / total), float(inter), (float(x0), float(y0), float(x1 - x0), float(y1 - y0))


def box_quad(box: Box) -> np.ndarray:
    """The corners of an (x, y, w, h) box, clockwise from top-left."""
    x, y, w, h = box
    return np.array([[x, y], [x + w, y], [x + w, y + h], [x, y + h]], np.float32)


def project_quad(H: np.ndarray, box: Box, max_w_ratio: float | None = None) -> np.ndarray | None:
    """A box's corners through ``H``; None when part of it would lie behind the camera
    (or, with ``max_w_ratio``, when its depth varies implausibly across it)."""
    hom = np.c_[box_quad(box), np.ones(4, np.float32)] @ np.asarray(H, np.float64).T
    w = hom[:, 2] * np.sign(hom[:, 2].sum())  # a homography's overall sign is arbitrary
    if np.any(w <= 1e-9) or (max_w_ratio is not None and w.max() / w.min() > max_w_ratio):
        return None
    return (hom[:, :2] / hom[:, 2:3]).astype(np.float32)


def boxes_in_view(
    H: np.ndarray, boxes: dict[str, Box], size: tuple[int, int], min_visible: float, min_area: float
) -> list[tuple[str, float, Box]]:
    """(id, visible fraction, bbox in the frame) of each of ``boxes`` (in artwork pixels) that
    ``H`` places in a frame of ``size`` with at least ``min_visible`` of it inside and covering at
    least ``min_area`` of the frame."""
    out: list[tuple[str, float, Box]] = []
    for box_id, box in boxes.items():
        quad = project_quad(H, box)
        if quad is None:
            continue
        vis, area, bbox = polygon_in_frame(quad, size)
        if bbox is not None and vis >= min_visible and area / (size[0] * size[1]) >= min_area:
            out.append((box_id, vis, bbox))
    return out


def outline(H: np.ndarray, size: tuple[int, int]) -> list[tuple[float, float]] | None:
    """A picture's outline (``size``: its width, height) through ``H``, as frame points; None
    when part of it would lie behind the camera."""
    corners = project_quad(H, (0, 0, size[0], size[1]))
    return None if corners is None else [(float(x), float(y)) for x, y in corners]
