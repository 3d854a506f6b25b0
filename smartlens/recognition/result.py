"""What every recogniser returns, whatever its method: plain dataclasses, easy to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..geometry import Box


@dataclass
class DetailHit:
    """A detail seen in the frame, with its box when the method knows where it is."""

    id: str
    score: float
    box: Box | None = None


@dataclass
class Pose:
    """Where a flat artwork lies in the frame, and the evidence: what tracking starts from."""

    H: np.ndarray  # 3 x 3, artwork pixels -> frame pixels
    size: tuple[int, int]  # the artwork image's width and height
    artwork_points: np.ndarray  # (N, 2) keypoints that agreed with H, in artwork pixels...
    frame_points: np.ndarray  # ...and the same points in the frame


@dataclass
class Recognition:
    """The answer for one frame: which artwork (or none), which of its details, how long it took."""

    artwork: str | None
    score: float = 0.0
    details: list[DetailHit] = field(default_factory=list)
    ms: float = 0.0
    method: str = ""
    #: The artwork's corners in the frame (clockwise from top-left), when the method knows them.
    quad: list[tuple[float, float]] | None = None
    #: The homography and its inliers, when the method has them (verified retrieval); not in JSON.
    pose: Pose | None = None

    def to_json(self, image: str | None = None) -> dict[str, Any]:
        """The one-line JSON form printed by ``recognize --json``."""
        return {
            "image": image,
            "artwork": self.artwork,
            "score": round(float(self.score), 4),
            "details": [
                {
                    "id": d.id,
                    "score": round(float(d.score), 4),
                    "box": None if d.box is None else [round(float(v), 1) for v in d.box],
                }
                for d in self.details
            ],
            "ms": round(self.ms, 2),
        }


NOTHING = Recognition(None)
