"""What the lens draws on the video reads on any painting: label text against its pill, and the
boxes against whatever is around them (WCAG 1.4.3 for text, 1.4.11 for the boxes)."""

from __future__ import annotations

import numpy as np
import pytest

from smartlens.drawing import LABEL_PX, draw
from smartlens.recognition.result import DetailHit, Recognition


def luminance(bgr) -> float:
    """WCAG's relative luminance of a BGR colour."""
    c = np.asarray(bgr, float)[::-1] / 255
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ [0.2126, 0.7152, 0.0722])


def contrast(a, b) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


BACKGROUNDS = {
    "white wall": (255, 255, 255),
    "dark varnish": (10, 10, 10),
    "golden frame": (40, 190, 240),  # close to the boxes' own amber
    "sky blue": (235, 206, 135),
    "mid grey": (128, 128, 128),
}


@pytest.mark.parametrize("background", BACKGROUNDS.values(), ids=BACKGROUNDS.keys())
def test_boxes_and_labels_keep_their_contrast(background):
    frame = np.full((480, 640, 3), background, np.uint8)
    rec = Recognition("a", 0.9, [DetailHit("face", 0.9, (200, 200, 200, 150))])
    out = draw(frame, rec, {"face": "The smile"})
    # across the box's bottom edge (no label there): a colour of the box keeps 3:1 against the wall
    across = out[340:362, 300].astype(int)
    drawn = [tuple(px) for px in across if np.abs(px - np.asarray(background)).max() > 30]
    assert drawn, "no box drawn"
    assert max(contrast(px, background) for px in drawn) >= 3.0, (background, drawn)
    # the label: white text on its dark pill, inside the box's top-left corner
    tag = out[203 : 203 + LABEL_PX + 10, 203:330].reshape(-1, 3).astype(int)
    text = tag[tag.sum(1) > 600]
    pill = tag[tag.sum(1) < 120]
    assert len(text) > 30 and len(pill) > 300, "no label drawn"
    assert contrast(text.mean(0), pill.mean(0)) >= 4.5
    # and the text is large enough to read on a phone (the label is LABEL_PX tall at 480 px)
    rows = np.nonzero((out[195:240, 203:330].astype(int).sum(2) > 600).any(1))[0]
    assert rows.max() - rows.min() >= 0.5 * LABEL_PX
