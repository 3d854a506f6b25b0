"""The original Smart Lens retrieval (the baseline mode): CNN features of rigid sub-crops.

Index entries per artwork: the whole image and five crops of 2/3 width and height (centre
and four corners), plus one entry per detail (its box). A frame is described the same way:
the whole frame names the artwork (nearest entry, if within that entry's calibrated maximum
distance), and its sub-crops name the artwork's details.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ann import IVFIndex

CROPS = ("centre", "top-left", "top-right", "bottom-left", "bottom-right")


def subcrops(image: np.ndarray) -> list[tuple[str, tuple[int, int, int, int]]]:
    """The whole image and its five 2/3-size crops, as (name, (x, y, w, h))."""
    h, w = image.shape[:2]
    cw, ch = int(w * 2 / 3), int(h * 2 / 3)
    origins = {"centre": ((w - cw) // 2, (h - ch) // 2), "top-left": (0, 0), "top-right": (w - cw, 0),
               "bottom-left": (0, h - ch), "bottom-right": (w - cw, h - ch)}
    return [("whole", (0, 0, w, h))] + [(n, (*origins[n], cw, ch)) for n in CROPS]


def crop(image: np.ndarray, box) -> np.ndarray:
    x, y, w, h = (int(round(v)) for v in box)
    return image[max(0, y):y + h, max(0, x):x + w]


def normalise(f: np.ndarray) -> np.ndarray:
    return f / (np.linalg.norm(f, axis=1, keepdims=True) + 1e-9)


@dataclass
class BaselineIndex:
    """Entry features with their artwork, detail (-1 for artwork-level entries) and max distance."""

    artwork_ids: list[str]
    detail_ids: list[list[str]]
    features: np.ndarray  # (E, D) L2-normalised
    entry_artwork: np.ndarray  # (E,)
    entry_detail: np.ndarray  # (E,) detail index within the artwork, or -1
    max_distance: np.ndarray  # (E,)
    embedder: str
    #: Mean feature of generic scenes, subtracted before normalising: post-ReLU features all
    #: point one way, and centring them spreads cosine distances out.
    center: np.ndarray | None = None

    def prepare(self, raw: np.ndarray) -> np.ndarray:
        return normalise(raw - (0 if self.center is None else self.center))

    def arrays(self) -> dict[str, np.ndarray]:
        return {"b_features": self.features.astype(np.float16), "b_artwork": self.entry_artwork,
                "b_detail": self.entry_detail, "b_max_distance": self.max_distance,
                "b_center": np.zeros(self.features.shape[1], np.float32) if self.center is None else self.center}

    def meta(self) -> dict:
        return {"artwork_ids": self.artwork_ids, "detail_ids": self.detail_ids, "embedder": self.embedder}

    @classmethod
    def from_arrays(cls, arrays, meta: dict) -> "BaselineIndex":
        return cls(meta["artwork_ids"], meta["detail_ids"], normalise(arrays["b_features"].astype(np.float32)),
                   arrays["b_artwork"], arrays["b_detail"], arrays["b_max_distance"], meta["embedder"],
                   arrays["b_center"])

    @property
    def nbytes(self) -> int:
        return int(self.features.nbytes + self.entry_artwork.nbytes + self.entry_detail.nbytes)


def entry_images(image: np.ndarray, boxes: list[tuple]) -> list[tuple[int, np.ndarray]]:
    """(detail index or -1, image) of every index entry of one artwork."""
    out = [(-1, crop(image, box)) for _, box in subcrops(image)]
    for j, (x, y, w, h) in enumerate(boxes):
        m = 0.1
        out.append((j, crop(image, (x - w * m, y - h * m, w * (1 + 2 * m), h * (1 + 2 * m)))))
    return out


class BaselineMatcher:
    def __init__(self, index: BaselineIndex):
        self.index = index
        self.ann = IVFIndex(index.features)
        self._artwork_mask = {a: (index.entry_artwork == a) & (index.entry_detail >= 0)
                              for a in range(len(index.artwork_ids))}

    def match(self, frame_features: np.ndarray, crop_boxes: list[tuple]) -> tuple[int | None, float, list]:
        """(artwork index or None, score, [(detail index, score, box)]) from a frame's six features."""
        ix = self.index
        entry, dist = self.ann.search(frame_features[:1])
        e = int(entry[0])
        if e < 0 or dist[0] > ix.max_distance[e]:
            return None, 0.0, []
        art = int(ix.entry_artwork[e])
        score = float(1.0 - dist[0] / max(ix.max_distance[e], 1e-6) / 2)
        details: dict[int, tuple[float, tuple]] = {}
        if ix.entry_detail[e] >= 0:
            details[int(ix.entry_detail[e])] = (score, crop_boxes[0])
        mask = self._artwork_mask[art]
        if mask.any():
            ents, dists = self.ann.search(frame_features[1:], mask=mask)
            for ent, d, box in zip(ents, dists, crop_boxes[1:]):
                if ent >= 0 and d <= ix.max_distance[ent]:
                    j = int(ix.entry_detail[ent])
                    s = float(1.0 - d / max(ix.max_distance[ent], 1e-6) / 2)
                    if s > details.get(j, (-1.0, None))[0]:
                        details[j] = (s, box)
        return art, score, [(j, s, b) for j, (s, b) in sorted(details.items())]
