"""Anchors: default boxes tiled over each feature map, several scales and aspect ratios a cell."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class AnchorLevel:
    """One feature map's anchors: its stride (input pixels per cell), box sides as fractions of
    the input, and width/height ratios (each scale is paired with each ratio)."""

    stride: int
    scales: tuple[float, ...]
    ratios: tuple[float, ...] = (1.0, 2.0, 0.5)

    @property
    def per_cell(self) -> int:
        return len(self.scales) * len(self.ratios)


#: Strides 16 and 32 of MobileNetV3, then two extra maps: boxes from a small detail to the frame.
DEFAULT_LEVELS: tuple[AnchorLevel, ...] = (
    AnchorLevel(16, (0.08, 0.14)),
    AnchorLevel(32, (0.22, 0.32)),
    AnchorLevel(64, (0.45, 0.6)),
    AnchorLevel(128, (0.75, 0.95)),
)


def grid_size(input_size: int, stride: int) -> int:
    """Cells a side of the feature map of ``stride`` (ceil: 'same' padding rounds up)."""
    return -(-input_size // stride)


def make_anchors(input_size: int, levels: tuple[AnchorLevel, ...] = DEFAULT_LEVELS) -> np.ndarray:
    """All anchors, (N, 4) float32 ``(cx, cy, w, h)`` normalised, in the order the heads emit them:
    level by level, row by row, cell by cell, scale by scale, ratio by ratio."""
    out = []
    for level in levels:
        n = grid_size(input_size, level.stride)
        centres = (np.arange(n, dtype=np.float64) + 0.5) / n
        cy, cx = np.meshgrid(centres, centres, indexing="ij")
        shapes = np.array(
            [(s * np.sqrt(r), s / np.sqrt(r)) for s in level.scales for r in level.ratios], np.float64
        )  # (k, 2): width, height
        k = len(shapes)
        a = np.empty((n, n, k, 4), np.float64)
        a[..., 0] = cx[..., None]
        a[..., 1] = cy[..., None]
        a[..., 2] = shapes[:, 0]
        a[..., 3] = shapes[:, 1]
        out.append(a.reshape(-1, 4))
    return np.concatenate(out).astype(np.float32)


def levels_to_json(levels: tuple[AnchorLevel, ...]) -> list[dict]:
    """The anchor set as info.json keeps it (so a saved model rebuilds the same anchors)."""
    return [asdict(level) for level in levels]


def levels_from_json(data: list[dict]) -> tuple[AnchorLevel, ...]:
    return tuple(
        AnchorLevel(int(d["stride"]), tuple(map(float, d["scales"])), tuple(map(float, d["ratios"])))
        for d in data
    )
