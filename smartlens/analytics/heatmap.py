"""Which details of an artwork draw attention, painted over the artwork's picture."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..config import Settings
from ..guide.store import GuideRef
from ..imaging import fit_within, read_image


def attention_map(
    ref: GuideRef,
    artwork_id: str,
    attention: Mapping[str, float],
    settings: Settings,
    max_side: int = 900,
    alpha: float = 0.7,
) -> np.ndarray:
    """The artwork's picture (BGR, at most ``max_side`` px) with each detail's box warmed by its
    share of ``attention`` (detail id -> count), through OpenCV's TURBO colour map; details
    nobody looked at keep the picture as it is. Boxes are numbered 1, 2... in the guide's order of
    the details (a legend beside the picture names them: OpenCV draws ASCII only, and names are
    in any language). KeyError if the guide has no such artwork."""
    art = ref.guide.artwork(artwork_id)
    picture, _ = fit_within(read_image(ref.root / art.image, settings.image_limits), max_side)
    h, w = picture.shape[:2]
    # the guide's boxes are in the pixels the guide recorded for the picture
    sx, sy = w / max(art.width, 1), h / max(art.height, 1)
    heat = np.zeros((h, w), np.float32)
    for d in art.details:
        value = float(attention.get(d.id, 0) or 0)
        if value <= 0:
            continue
        x, y, bw, bh = d.box
        x0, y0 = int(round(x * sx)), int(round(y * sy))
        x1, y1 = int(round((x + bw) * sx)), int(round((y + bh) * sy))
        heat[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] += value
    if heat.max() <= 0:
        return picture
    sigma = max(h, w) / 60  # soft edges: attention, not a hard box
    blurred = cv2.GaussianBlur(heat, (0, 0), sigma)
    soft = np.asarray(blurred, np.float32) / float(blurred.max())
    colours = cv2.applyColorMap((soft * 255).astype(np.uint8), cv2.COLORMAP_TURBO).astype(np.float32)
    # the painting dimmed towards grey, so the colours of the heat, not the painting's, stand out
    grey = cv2.cvtColor(cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR).astype(np.float32)
    base = 0.55 * (0.7 * grey + 0.3 * picture.astype(np.float32))
    weight = (alpha * np.clip(soft * 2.0, 0, 1))[..., None]  # none where nobody looked
    out = np.clip(base * (1 - weight) + colours * weight, 0, 255).astype(np.uint8)
    for n, d in enumerate(art.details, 1):
        x, y, bw, bh = d.box
        p0 = (int(x * sx), int(y * sy))
        p1 = (int((x + bw) * sx), int((y + bh) * sy))
        cv2.rectangle(out, p0, p1, (255, 255, 255), 1, cv2.LINE_AA)
        label = str(n)
        cv2.putText(
            out, label, (p0[0] + 4, p0[1] + 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 4, cv2.LINE_AA
        )
        cv2.putText(
            out,
            label,
            (p0[0] + 4, p0[1] + 22),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.7,
            (255, 255, 255),
            1,
            cv2.LINE_AA,
        )
    return out
