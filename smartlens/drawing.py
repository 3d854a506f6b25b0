"""Drawing recognition results on a frame: detail boxes and labels, an artwork marker.

The lens draws on the live video with it, the studio on the pictures a curator tries."""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .recognition.result import Recognition

ACCENT = (40, 200, 255)  # BGR: a warm amber, 10:1 against the dark edge beside it
TEXT_BG = (30, 30, 30)  # the labels' pill and the boxes' dark edge
#: Label text height at a 480-pixel frame: the frame is shown at about 400 CSS pixels on a phone.
LABEL_PX = 20


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's bundled scalable font: covers accented letters, unlike OpenCV's Hershey fonts
    return ImageFont.load_default(size=size)


def _corners(img: np.ndarray, quad, colour, length: float = 0.18, width: int = 3) -> None:
    """Corner brackets on the artwork's outline: marks it without hiding it."""
    pts = np.asarray(quad, np.float32)
    for edge, w in ((TEXT_BG, width + 4), (colour, width)):  # dark edge first, amber on it
        for i in range(4):
            p, nxt, prv = pts[i], pts[(i + 1) % 4], pts[(i - 1) % 4]
            for q in (nxt, prv):
                end = p + (q - p) * length
                cv2.line(img, (int(p[0]), int(p[1])), (int(end[0]), int(end[1])), edge, w, cv2.LINE_AA)


def _box(img: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], width: int) -> None:
    """A box in amber on a dark edge: one of the two keeps 3:1 against any painting (WCAG 1.4.11),
    a light sky or a dark varnish alike."""
    cv2.rectangle(img, p0, p1, TEXT_BG, width + 4, cv2.LINE_AA)
    cv2.rectangle(img, p0, p1, ACCENT, width, cv2.LINE_AA)


def draw(
    frame: np.ndarray, rec: Recognition | None, names: dict[str, str] | None = None, title: str | None = None
) -> np.ndarray:
    """A copy of ``frame`` with ``rec`` drawn on it. ``names`` maps detail ids to display names."""
    out = frame.copy()
    if rec is None or rec.artwork is None:
        return out
    h, w = out.shape[:2]
    scale = max(0.6, min(w, h) / 480)
    thick = max(2, int(round(2 * scale)))
    if rec.quad is not None:
        _corners(out, rec.quad, ACCENT, width=thick)
    else:  # no outline known (classification): a thin frame round the view
        _box(out, (thick, thick), (w - thick, h - thick), thick)
    labels = []
    for d in rec.details:
        if d.box is None:
            continue
        x, y, bw, bh = (int(round(v)) for v in d.box)
        _box(out, (x, y), (x + bw, y + bh), thick)
        labels.append(((x, y), (names or {}).get(d.id, d.id)))
    if title:
        labels.append(((int(8 * scale), int(8 * scale)), title))
    if labels:
        out = _labels(out, labels, int(LABEL_PX * scale))
    return out


@lru_cache(maxsize=512)
def _tag(text: str, size: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """A label tag (an opaque dark pill, white text: 16:1 whatever the painting behind it) drawn
    once with Pillow: its BGR pixels, its opacity
    (0..1, h x w x 1), and the text's offset; pasted on every frame without a PIL round trip."""
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    x0, y0, x1, y1 = probe.textbbox((0, 0), text, font=font)
    tw, th = int(x1 - x0) + 10, int(y1 - y0) + 8
    tag = Image.new("RGBA", (tw + 1, th + 1), (0, 0, 0, 0))
    d = ImageDraw.Draw(tag)
    d.rounded_rectangle((0, 0, tw, th), radius=6, fill=(*TEXT_BG[::-1], 255))
    d.text((5 - x0, 4 - y0), text, font=font, fill=(255, 255, 255, 255))
    rgba = np.asarray(tag)
    bgr = np.ascontiguousarray(rgba[:, :, 2::-1]).astype(np.float32)
    alpha = rgba[:, :, 3:4].astype(np.float32) / 255.0
    return bgr, alpha, tw, th


def _labels(img: np.ndarray, labels: list[tuple[tuple[int, int], str]], size: int) -> np.ndarray:
    """Text tags just inside each box's top-left corner, kept inside the frame and moved down
    where they would cover one another (drawn in place on ``img``)."""
    h, w = img.shape[:2]
    placed: list[tuple[int, int, int, int]] = []
    for (x, y), text in labels:
        bgr, alpha, tw, th = _tag(text, size)
        x = min(max(0, x + 3), max(0, w - tw))
        y = min(max(0, y + 3), max(0, h - th))
        for _ in range(8):
            if not any(
                x < px1 and px0 < x + tw and y < py1 and py0 < y + th for px0, py0, px1, py1 in placed
            ):
                break
            y = min(y + th + 2, max(0, h - th))
        placed.append((x, y, x + tw, y + th))
        ph, pw = min(bgr.shape[0], h - y), min(bgr.shape[1], w - x)
        if ph <= 0 or pw <= 0:
            continue
        roi = img[y : y + ph, x : x + pw]
        a = alpha[:ph, :pw]
        roi[:] = (bgr[:ph, :pw] * a + roi * (1.0 - a)).astype(np.uint8)
    return img
