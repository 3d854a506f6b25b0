"""Training views shown small: an artwork as a visitor's phone often frames it, among other things.

The augmentation engine shows each artwork filling most of the frame; in a museum it is often
small, beside other paintings, behind visitors. So both trainers add a share of their artworks'
views again, shrunk to 35-75 % of the frame and pasted at a random place into one of their views
with no artwork (a wall, a room, another picture), keeping their class (a detector's boxes move
with them). They are made from the training views alone: the validation views stay another
generator's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Share of the artworks' training views also shown small.
SMALL_SHARE = 0.3
#: The side of the pasted view, as a share of the frame's.
SMALL_SIDE = (0.35, 0.75)


@dataclass
class SmallViews:
    """The new images (N, S, S, 3), the training view each shows (N,), and where it was pasted:
    (left, top, side) in pixels of the S x S frame (N, 3)."""

    images: np.ndarray
    sources: np.ndarray
    placements: np.ndarray

    def boxes(self, corners: np.ndarray, i: int) -> np.ndarray:
        """Normalised corner boxes (..., 4) of source view ``i``'s objects, where they now are."""
        left, top, side = self.placements[i]
        size = self.images.shape[1]
        scale, offset = side / size, np.array([left, top, left, top], np.float32) / size
        return (np.asarray(corners, np.float32) * scale + offset).astype(np.float32)


def small_views(
    x: np.ndarray, artworks: np.ndarray, negative: np.ndarray, seed: int, share: float = SMALL_SHARE
) -> SmallViews:
    """``share`` of the views ``artworks`` (indices into ``x``, square RGB images) shrunk and
    pasted into views where ``negative`` (a mask over ``x``) is true."""
    rng = np.random.default_rng(seed + 17)
    backgrounds = np.flatnonzero(negative)
    size = x.shape[1]
    n = int(len(artworks) * share) if len(backgrounds) else 0
    sources = rng.choice(artworks, n, replace=False) if n else np.zeros(0, int)
    images = x[rng.choice(backgrounds, n)].copy() if n else np.zeros((0, *x.shape[1:]), x.dtype)
    placements = np.zeros((n, 3), int)
    for k, (out, i) in enumerate(zip(images, sources)):
        side = int(size * rng.uniform(*SMALL_SIDE))
        top, left = (int(v) for v in rng.integers(0, size - side + 1, 2))
        out[top : top + side, left : left + side] = cv2.resize(
            x[i], (side, side), interpolation=cv2.INTER_AREA
        )
        placements[k] = (left, top, side)
    return SmallViews(images, sources, placements)
