"""Pictures drawn from code: the demo guide's paintings, distractor artworks and negatives.

Everything is deterministic under a seed and needs no image files, so the project can ship
a demo guide and benchmarks can grow a guide to thousands of artworks. Paintings get a
layer of brush strokes so that they have the texture (and local features) of real ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np

Box = tuple[int, int, int, int]


@dataclass
class Canvas:
    """An image being painted, and the boxes of the motifs painted on it."""

    image: np.ndarray
    rng: np.random.Generator
    motifs: dict[str, Box] = field(default_factory=dict)

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]

    def mark(self, name: str, x0: float, y0: float, x1: float, y1: float) -> None:
        w, h = self.size
        x0, y0 = max(0, int(x0)), max(0, int(y0))
        x1, y1 = min(w, int(x1)), min(h, int(y1))
        self.motifs[name] = (x0, y0, x1 - x0, y1 - y0)


def _color(rng: np.random.Generator, base: tuple[int, int, int], jitter: int = 25) -> tuple[int, int, int]:
    return tuple(int(np.clip(c + rng.integers(-jitter, jitter + 1), 0, 255)) for c in base)  # type: ignore[return-value]


def gradient(w: int, h: int, top: tuple, bottom: tuple) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.repeat(img, w, axis=1).astype(np.uint8)


def brush_strokes(
    img: np.ndarray, rng: np.random.Generator, count: int, length: int = 14, width: int = 3, jitter: int = 28
) -> None:
    """Paint short strokes in each spot's own colour, slightly varied: painterly texture."""
    h, w = img.shape[:2]
    xs = rng.integers(0, w, count)
    ys = rng.integers(0, h, count)
    angles = rng.uniform(0, np.pi, count)
    lengths = rng.integers(length // 2, length + 1, count)
    shifts = rng.integers(-jitter, jitter + 1, (count, 3))
    for x, y, a, n, s in zip(xs, ys, angles, lengths, shifts):
        c = np.clip(img[y, x].astype(int) + s, 0, 255)
        dx, dy = int(np.cos(a) * n), int(np.sin(a) * n)
        cv2.line(
            img,
            (int(x) - dx, int(y) - dy),
            (int(x) + dx, int(y) + dy),
            tuple(int(v) for v in c),
            width,
            cv2.LINE_AA,
        )


# --- motifs: each paints one recognisable thing and marks its box ---------------------------
def sun(cv: Canvas, name: str, cx: float, cy: float, r: float, color=(40, 200, 255)) -> None:
    img = cv.image
    for k in range(16):
        a = k * np.pi / 8 + cv.rng.uniform(-0.1, 0.1)
        p0 = (int(cx + np.cos(a) * r * 1.2), int(cy + np.sin(a) * r * 1.2))
        p1 = (int(cx + np.cos(a) * r * 1.8), int(cy + np.sin(a) * r * 1.8))
        cv2.line(img, p0, p1, color, max(2, int(r / 8)), cv2.LINE_AA)
    cv2.circle(img, (int(cx), int(cy)), int(r), color, -1, cv2.LINE_AA)
    cv2.circle(img, (int(cx), int(cy)), int(r * 0.6), _color(cv.rng, (90, 230, 255), 10), -1, cv2.LINE_AA)
    cv.mark(name, cx - r * 1.8, cy - r * 1.8, cx + r * 1.8, cy + r * 1.8)


def moon(cv: Canvas, name: str, cx: float, cy: float, r: float, sky=(90, 40, 20)) -> None:
    cv2.circle(cv.image, (int(cx), int(cy)), int(r), (215, 235, 245), -1, cv2.LINE_AA)
    cv2.circle(cv.image, (int(cx + r * 0.45), int(cy - r * 0.2)), int(r * 0.9), sky, -1, cv2.LINE_AA)
    for _ in range(6):  # stars around it
        sx, sy = cx + cv.rng.uniform(-3, 3) * r, cy + cv.rng.uniform(-1.5, 1.5) * r
        cv2.drawMarker(cv.image, (int(sx), int(sy)), (230, 245, 255), cv2.MARKER_STAR, max(6, int(r / 3)), 1)
    cv.mark(name, cx - r, cy - r, cx + r, cy + r)


def house(
    cv: Canvas, name: str, x: float, y: float, w: float, h: float, wall=(200, 120, 60), roof=(40, 40, 170)
) -> None:
    img = cv.image
    cv2.rectangle(img, (int(x), int(y + h * 0.4)), (int(x + w), int(y + h)), wall, -1)
    roof_pts = np.array(
        [[x - w * 0.08, y + h * 0.42], [x + w / 2, y], [x + w * 1.08, y + h * 0.42]], np.int32
    )
    cv2.fillPoly(img, [roof_pts], roof, cv2.LINE_AA)
    cv2.rectangle(
        img, (int(x + w * 0.42), int(y + h * 0.65)), (int(x + w * 0.58), int(y + h)), (30, 50, 80), -1
    )
    for wx in (0.15, 0.7):
        p0 = (int(x + w * wx), int(y + h * 0.52))
        p1 = (int(x + w * (wx + 0.15)), int(y + h * 0.7))
        cv2.rectangle(img, p0, p1, (120, 220, 240), -1)
        cv2.rectangle(img, p0, p1, (40, 40, 40), 2)
        cv2.line(img, ((p0[0] + p1[0]) // 2, p0[1]), ((p0[0] + p1[0]) // 2, p1[1]), (40, 40, 40), 1)
    cv2.rectangle(
        img, (int(x + w * 0.7), int(y + h * 0.1)), (int(x + w * 0.8), int(y + h * 0.3)), (60, 60, 120), -1
    )
    cv.mark(name, x - w * 0.08, y, x + w * 1.08, y + h)


def tree(cv: Canvas, name: str, x: float, base: float, h: float, leaves=(40, 130, 40)) -> None:
    img = cv.image
    cv2.rectangle(
        img, (int(x - h * 0.05), int(base - h * 0.45)), (int(x + h * 0.05), int(base)), (30, 60, 100), -1
    )
    for _ in range(14):
        cx = x + cv.rng.normal(0, h * 0.14)
        cy = base - h * 0.65 + cv.rng.normal(0, h * 0.12)
        cv2.circle(
            img,
            (int(cx), int(cy)),
            int(h * cv.rng.uniform(0.1, 0.18)),
            _color(cv.rng, leaves, 30),
            -1,
            cv2.LINE_AA,
        )
    cv.mark(name, x - h * 0.42, base - h, x + h * 0.42, base)


def pine(cv: Canvas, x: float, base: float, h: float) -> None:
    pts = np.array(
        [[x, base - h], [x - h * 0.22, base - h * 0.15], [x + h * 0.22, base - h * 0.15]], np.int32
    )
    cv2.fillPoly(cv.image, [pts], _color(cv.rng, (40, 80, 20), 15), cv2.LINE_AA)
    cv2.rectangle(
        cv.image, (int(x - h * 0.03), int(base - h * 0.15)), (int(x + h * 0.03), int(base)), (20, 40, 70), -1
    )


def mountains(cv: Canvas, name: str, y_base: float, peak_x: float, peak_h: float) -> None:
    w, _ = cv.size
    xs = np.linspace(0, w, 9)
    ys = [y_base - peak_h * cv.rng.uniform(0.3, 0.7) for _ in xs]
    k = int(np.argmin(np.abs(xs - peak_x)))
    ys[k] = y_base - peak_h
    pts = np.array([[0, y_base]] + [[int(a), int(b)] for a, b in zip(xs, ys)] + [[w, y_base]], np.int32)
    cv2.fillPoly(cv.image, [pts], (110, 90, 80), cv2.LINE_AA)
    snow = np.array(
        [
            [xs[k], ys[k]],
            [xs[k] - peak_h * 0.25, ys[k] + peak_h * 0.3],
            [xs[k] + peak_h * 0.22, ys[k] + peak_h * 0.28],
        ],
        np.int32,
    )
    cv2.fillPoly(cv.image, [snow], (245, 245, 250), cv2.LINE_AA)
    cv.mark(name, xs[k] - peak_h * 0.45, ys[k] - 4, xs[k] + peak_h * 0.45, ys[k] + peak_h * 0.6)


def boat(cv: Canvas, name: str, x: float, y: float, s: float) -> None:
    img = cv.image
    hull = np.array(
        [[x - s, y], [x + s, y], [x + s * 0.7, y + s * 0.35], [x - s * 0.7, y + s * 0.35]], np.int32
    )
    cv2.fillPoly(img, [hull], (30, 40, 120), cv2.LINE_AA)
    cv2.line(img, (int(x), int(y)), (int(x), int(y - s * 1.6)), (40, 40, 40), max(2, int(s / 15)))
    sail = np.array([[x + 4, y - s * 1.55], [x + 4, y - s * 0.15], [x + s * 0.95, y - s * 0.15]], np.int32)
    cv2.fillPoly(img, [sail], (235, 235, 240), cv2.LINE_AA)
    sail2 = np.array([[x - 4, y - s * 1.3], [x - 4, y - s * 0.2], [x - s * 0.7, y - s * 0.2]], np.int32)
    cv2.fillPoly(img, [sail2], (60, 90, 210), cv2.LINE_AA)
    cv.mark(name, x - s, y - s * 1.6, x + s, y + s * 0.35)


def lighthouse(cv: Canvas, name: str, x: float, base: float, h: float) -> None:
    img = cv.image
    w0, w1 = h * 0.16, h * 0.1
    for k in range(5):
        y0 = base - h * 0.8 * k / 5
        y1 = base - h * 0.8 * (k + 1) / 5
        f0, f1 = w0 - (w0 - w1) * k / 5, w0 - (w0 - w1) * (k + 1) / 5
        pts = np.array([[x - f0, y0], [x + f0, y0], [x + f1, y1], [x - f1, y1]], np.int32)
        cv2.fillPoly(img, [pts], (40, 40, 200) if k % 2 else (240, 240, 240), cv2.LINE_AA)
    cv2.rectangle(
        img, (int(x - w1), int(base - h * 0.95)), (int(x + w1), int(base - h * 0.8)), (60, 220, 250), -1
    )
    cv2.fillPoly(
        img,
        [
            np.array(
                [[x - w1 * 1.3, base - h * 0.95], [x, base - h], [x + w1 * 1.3, base - h * 0.95]], np.int32
            )
        ],
        (30, 30, 30),
    )
    cv.mark(name, x - w0 * 1.1, base - h, x + w0 * 1.1, base)


def flower(cv: Canvas, name: str | None, cx: float, cy: float, r: float, petal=(60, 60, 230)) -> None:
    n = int(cv.rng.integers(5, 9))
    for k in range(n):
        a = 2 * np.pi * k / n
        px, py = cx + np.cos(a) * r * 0.6, cy + np.sin(a) * r * 0.6
        cv2.ellipse(
            cv.image,
            (int(px), int(py)),
            (int(r * 0.45), int(r * 0.25)),
            np.degrees(a),
            0,
            360,
            _color(cv.rng, petal, 20),
            -1,
            cv2.LINE_AA,
        )
    cv2.circle(cv.image, (int(cx), int(cy)), int(r * 0.3), (20, 160, 230), -1, cv2.LINE_AA)
    if name:
        cv.mark(name, cx - r * 1.1, cy - r * 1.1, cx + r * 1.1, cy + r * 1.1)


def vase(cv: Canvas, name: str, cx: float, base: float, h: float, color=(150, 90, 40)) -> None:
    img = cv.image
    cv2.ellipse(
        img, (int(cx), int(base - h * 0.35)), (int(h * 0.3), int(h * 0.35)), 0, 0, 360, color, -1, cv2.LINE_AA
    )
    cv2.rectangle(
        img, (int(cx - h * 0.12), int(base - h)), (int(cx + h * 0.12), int(base - h * 0.6)), color, -1
    )
    cv2.ellipse(
        img,
        (int(cx), int(base - h)),
        (int(h * 0.16), int(h * 0.05)),
        0,
        0,
        360,
        (90, 50, 20),
        -1,
        cv2.LINE_AA,
    )
    for _ in range(3):
        cv2.ellipse(
            img,
            (int(cx), int(base - h * 0.35)),
            (int(h * 0.3), int(h * 0.08)),
            0,
            0,
            180,
            (220, 220, 240),
            2,
            cv2.LINE_AA,
        )
        base -= h * 0.12
    cv.mark(name, cx - h * 0.32, base + 3 * h * 0.12 - h * 1.03, cx + h * 0.32, base + 3 * h * 0.12)


def fruit(cv: Canvas, name: str, x: float, y: float, s: float) -> None:
    for k, col in enumerate([(30, 40, 200), (40, 180, 230), (40, 150, 60), (30, 40, 200)]):
        cv2.circle(
            cv.image, (int(x + k * s * 0.7), int(y + (k % 2) * s * 0.2)), int(s * 0.45), col, -1, cv2.LINE_AA
        )
        cv2.circle(
            cv.image,
            (int(x + k * s * 0.7 - s * 0.15), int(y - s * 0.15)),
            int(s * 0.1),
            (230, 240, 250),
            -1,
            cv2.LINE_AA,
        )
    cv.mark(name, x - s * 0.5, y - s * 0.5, x + 2.1 * s + s * 0.5, y + s * 0.7)


def face(cv: Canvas, name: str, cx: float, cy: float, s: float, skin=(150, 180, 225)) -> None:
    img = cv.image
    cv2.ellipse(img, (int(cx), int(cy)), (int(s * 0.38), int(s * 0.5)), 0, 0, 360, skin, -1, cv2.LINE_AA)
    for dx in (-0.15, 0.15):
        cv2.ellipse(
            img,
            (int(cx + dx * s), int(cy - 0.08 * s)),
            (int(s * 0.08), int(s * 0.045)),
            0,
            0,
            360,
            (250, 250, 250),
            -1,
            cv2.LINE_AA,
        )
        cv2.circle(img, (int(cx + dx * s), int(cy - 0.08 * s)), int(s * 0.035), (60, 40, 30), -1, cv2.LINE_AA)
        cv2.line(
            img,
            (int(cx + (dx - 0.1) * s), int(cy - 0.17 * s)),
            (int(cx + (dx + 0.1) * s), int(cy - 0.19 * s)),
            (40, 50, 70),
            3,
            cv2.LINE_AA,
        )
    cv2.line(
        img,
        (int(cx), int(cy - 0.02 * s)),
        (int(cx - 0.04 * s), int(cy + 0.12 * s)),
        (90, 110, 160),
        2,
        cv2.LINE_AA,
    )
    cv2.ellipse(
        img,
        (int(cx), int(cy + 0.25 * s)),
        (int(s * 0.12), int(s * 0.04)),
        0,
        0,
        180,
        (60, 60, 170),
        3,
        cv2.LINE_AA,
    )
    cv.mark(name, cx - s * 0.4, cy - s * 0.52, cx + s * 0.4, cy + s * 0.52)


def hat(cv: Canvas, name: str, cx: float, top: float, s: float, color=(40, 30, 30)) -> None:
    cv2.rectangle(
        cv.image, (int(cx - s * 0.3), int(top)), (int(cx + s * 0.3), int(top + s * 0.45)), color, -1
    )
    cv2.rectangle(
        cv.image,
        (int(cx - s * 0.3), int(top + s * 0.3)),
        (int(cx + s * 0.3), int(top + s * 0.38)),
        (40, 40, 180),
        -1,
    )
    cv2.ellipse(
        cv.image,
        (int(cx), int(top + s * 0.45)),
        (int(s * 0.55), int(s * 0.08)),
        0,
        0,
        360,
        color,
        -1,
        cv2.LINE_AA,
    )
    cv.mark(name, cx - s * 0.56, top, cx + s * 0.56, top + s * 0.53)


def signature(cv: Canvas, name: str, text: str, x: float, y: float, scale: float, color=(30, 30, 30)) -> None:
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, 2)
    cv2.putText(cv.image, text, (int(x), int(y)), font, scale, color, 2, cv2.LINE_AA)
    cv2.line(cv.image, (int(x), int(y + base)), (int(x + tw), int(y + base * 0.6)), color, 2, cv2.LINE_AA)
    cv.mark(name, x - 6, y - th - 6, x + tw + 6, y + base + 6)


def shapes(cv: Canvas, name: str | None, x: float, y: float, s: float) -> None:
    """An abstract cluster: circles, a triangle and lines (a little Kandinsky)."""
    rng, img = cv.rng, cv.image
    for k in range(5, 0, -1):
        cv2.circle(
            img,
            (int(x), int(y)),
            int(s * 0.1 * k),
            tuple(int(v) for v in rng.integers(0, 256, 3)),
            -1,
            cv2.LINE_AA,
        )
    tri = np.array(
        [[x + s * 0.4, y - s * 0.5], [x + s * 0.9, y + s * 0.3], [x + s * 0.1, y + s * 0.45]], np.int32
    )
    cv2.fillPoly(img, [tri], tuple(int(v) for v in rng.integers(0, 256, 3)), cv2.LINE_AA)
    for _ in range(4):
        a = rng.uniform(0, np.pi)
        cv2.line(
            img,
            (int(x - np.cos(a) * s), int(y - np.sin(a) * s * 0.6)),
            (int(x + np.cos(a) * s), int(y + np.sin(a) * s * 0.6)),
            (20, 20, 20),
            int(rng.integers(2, 6)),
            cv2.LINE_AA,
        )
    if name:
        cv.mark(name, x - s, y - s * 0.6, x + s * 0.95, y + s * 0.6)


def waves(cv: Canvas, y0: float, y1: float, color=(140, 90, 30)) -> None:
    w, _ = cv.size
    cv.image[int(y0) : int(y1)] = gradient(w, int(y1) - int(y0), color, tuple(max(0, c - 60) for c in color))
    for _ in range(int((y1 - y0) * w / 600)):
        x, y = cv.rng.uniform(0, w), cv.rng.uniform(y0, y1)
        cv2.ellipse(
            cv.image,
            (int(x), int(y)),
            (int(cv.rng.uniform(6, 20)), 3),
            0,
            180,
            360,
            (230, 200, 170),
            1,
            cv2.LINE_AA,
        )


# --- whole paintings ------------------------------------------------------------------------
def _finish(cv: Canvas, strokes: float = 1.0) -> Canvas:
    w, h = cv.size
    brush_strokes(cv.image, cv.rng, int(w * h / 60 * strokes), length=max(6, w // 70), width=max(2, w // 300))
    cv.image[:] = cv2.GaussianBlur(cv.image, (3, 3), 0)
    return cv


def harbour(seed: int, w: int = 900, h: int = 640) -> Canvas:
    cv = Canvas(gradient(w, h, (200, 140, 250), (120, 200, 255)), np.random.default_rng(seed))
    sun(cv, "sun", w * 0.72, h * 0.24, h * 0.08)
    waves(cv, h * 0.55, h)
    cv2.fillPoly(
        cv.image,
        [np.array([[0, h * 0.55], [w * 0.3, h * 0.5], [w * 0.42, h * 0.55]], np.int32)],
        (70, 90, 110),
    )
    lighthouse(cv, "lighthouse", w * 0.15, h * 0.56, h * 0.45)
    boat(cv, "boat", w * 0.55, h * 0.72, h * 0.12)
    boat(cv, "far-boat", w * 0.85, h * 0.6, h * 0.05)
    return _finish(cv)


def blue_house(seed: int, w: int = 800, h: int = 640) -> Canvas:
    cv = Canvas(gradient(w, h, (230, 190, 140), (240, 230, 210)), np.random.default_rng(seed))
    cv.image[int(h * 0.62) :] = gradient(w, h - int(h * 0.62), (60, 160, 90), (30, 100, 50))
    house(cv, "house", w * 0.25, h * 0.3, w * 0.38, h * 0.36, wall=(180, 100, 40))
    tree(cv, "tree", w * 0.8, h * 0.7, h * 0.5)
    cv2.fillPoly(
        cv.image,
        [np.array([[w * 0.42, h * 0.66], [w * 0.47, h * 0.66], [w * 0.6, h], [w * 0.3, h]], np.int32)],
        (150, 190, 210),
    )
    signature(cv, "signature", "A. Lumen", w * 0.05, h * 0.93, 1.3)
    return _finish(cv)


def mountain_lake(seed: int, w: int = 880, h: int = 600) -> Canvas:
    cv = Canvas(gradient(w, h, (90, 40, 20), (170, 120, 90)), np.random.default_rng(seed))
    moon(cv, "moon", w * 0.2, h * 0.18, h * 0.07, sky=(100, 50, 28))
    mountains(cv, "peak", h * 0.58, w * 0.62, h * 0.42)
    waves(cv, h * 0.58, h, color=(120, 80, 40))
    for k in range(9):
        pine(cv, w * (0.03 + 0.035 * k), h * (0.66 + 0.02 * (k % 3)), h * cv.rng.uniform(0.2, 0.3))
    cv.mark("pines", 0, h * 0.4, w * 0.36, h * 0.72)
    return _finish(cv)


def circles(seed: int, w: int = 760, h: int = 760) -> Canvas:
    cv = Canvas(gradient(w, h, (200, 225, 235), (150, 190, 215)), np.random.default_rng(seed))
    rng = cv.rng
    for _ in range(12):
        a, b = rng.uniform(0, w, 2), rng.uniform(0, h, 2)
        cv2.line(
            cv.image,
            (int(a[0]), int(b[0])),
            (int(a[1]), int(b[1])),
            (30, 30, 30),
            int(rng.integers(1, 4)),
            cv2.LINE_AA,
        )
    shapes(cv, "composition", w * 0.3, h * 0.32, w * 0.22)
    cv2.circle(cv.image, (int(w * 0.72), int(h * 0.7)), int(w * 0.13), (40, 40, 200), -1, cv2.LINE_AA)
    cv2.circle(cv.image, (int(w * 0.72), int(h * 0.7)), int(w * 0.08), (40, 200, 240), -1, cv2.LINE_AA)
    cv2.circle(cv.image, (int(w * 0.72), int(h * 0.7)), int(w * 0.035), (20, 20, 20), -1, cv2.LINE_AA)
    cv.mark("red-circle", w * 0.58, h * 0.56, w * 0.86, h * 0.84)
    for k in range(6):
        cv2.rectangle(
            cv.image,
            (int(w * 0.08 + k * 22), int(h * 0.78)),
            (int(w * 0.08 + k * 22 + 14), int(h * 0.92)),
            tuple(int(v) for v in rng.integers(0, 256, 3)),
            -1,
        )
    cv.mark("bars", w * 0.06, h * 0.76, w * 0.08 + 6 * 22 + 4, h * 0.94)
    return _finish(cv)


def stranger(seed: int, w: int = 600, h: int = 780) -> Canvas:
    cv = Canvas(gradient(w, h, (60, 90, 70), (30, 50, 40)), np.random.default_rng(seed))
    cv2.ellipse(
        cv.image,
        (int(w * 0.5), int(h * 0.95)),
        (int(w * 0.42), int(h * 0.38)),
        0,
        180,
        360,
        (60, 40, 110),
        -1,
        cv2.LINE_AA,
    )
    cv2.rectangle(cv.image, (int(w * 0.45), int(h * 0.5)), (int(w * 0.55), int(h * 0.6)), (150, 180, 225), -1)
    face(cv, "face", w * 0.5, h * 0.4, h * 0.3)
    hat(cv, "hat", w * 0.5, h * 0.13, h * 0.25)
    for k in range(4):
        cv2.circle(cv.image, (int(w * 0.5), int(h * (0.7 + 0.06 * k))), 7, (40, 200, 240), -1, cv2.LINE_AA)
    cv.mark("buttons", w * 0.44, h * 0.66, w * 0.56, h * 0.92)
    signature(cv, "signature", "M. Veda", w * 0.62, h * 0.96, 1.1, color=(150, 200, 230))
    return _finish(cv)


def still_life(seed: int, w: int = 700, h: int = 820) -> Canvas:
    cv = Canvas(gradient(w, h, (120, 170, 200), (80, 120, 150)), np.random.default_rng(seed))
    cv.image[int(h * 0.72) :] = gradient(w, h - int(h * 0.72), (90, 60, 40), (50, 30, 20))
    vase(cv, "vase", w * 0.4, h * 0.8, h * 0.35)
    for k in range(7):
        a = -np.pi / 2 + (k - 3) * 0.35
        fx, fy = w * 0.4 + np.cos(a) * h * 0.25, h * 0.42 + np.sin(a) * h * 0.2
        cv2.line(cv.image, (int(w * 0.4), int(h * 0.46)), (int(fx), int(fy)), (40, 110, 40), 3, cv2.LINE_AA)
        flower(
            cv,
            "rose" if k == 3 else None,
            fx,
            fy,
            h * 0.055,
            petal=(60, 60, 220) if k % 2 else (200, 120, 230),
        )
    fruit(cv, "fruit", w * 0.7, h * 0.78, h * 0.06)
    return _finish(cv)


#: The demo guide's paintings, by id: (painter, seed).
DEMO_PAINTERS: dict[str, tuple[Callable[[int], Canvas], int]] = {
    "harbour-at-dawn": (harbour, 11),
    "the-blue-house": (blue_house, 12),
    "mountain-lake-by-night": (mountain_lake, 13),
    "circles-and-lines": (circles, 14),
    "portrait-of-a-stranger": (stranger, 15),
    "still-life-with-roses": (still_life, 16),
}


# --- works with almost no texture: what local features cannot find ---------------------------
def _smooth(rng: np.random.Generator, w: int, h: int, sigma: float, amplitude: float) -> np.ndarray:
    """Low-frequency variation (a few grey levels): paint, leaf and light are never quite flat."""
    n = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigma)
    return n / max(float(np.abs(n).max()), 1e-6) * amplitude


def black_painting(seed: int, w: int = 600, h: int = 760) -> Canvas:
    """A black painting: a faint cross of slightly different blacks (as Reinhardt's)."""
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), (16, 14, 18), np.float32)
    img[int(h * 0.36) : int(h * 0.64)] += (3, 1, 0)
    img[:, int(w * 0.36) : int(w * 0.64)] += (0, 2, 3)
    img += _smooth(rng, w, h, 25, 2.0)[..., None]
    return Canvas(np.clip(img, 0, 255).astype(np.uint8), rng)


def gold_ground(seed: int, w: int = 640, h: int = 640) -> Canvas:
    """Gold leaf laid in squares, each a shade apart, under a soft light: nothing painted on it."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    img[:] = (55, 165, 210)
    leaf = int(min(w, h) / 8)
    for y in range(0, h, leaf):
        for x in range(0, w, leaf):
            img[y : y + leaf, x : x + leaf] *= rng.uniform(0.97, 1.03)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.05 - 0.2 * np.hypot(xx / w - 0.4, yy / h - 0.3)
    img = img * light[..., None] + _smooth(rng, w, h, 20, 3.0)[..., None]
    return Canvas(cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (5, 5), 0), rng)


def monochrome(seed: int, w: int = 700, h: int = 540, colour: tuple[int, int, int] = (150, 45, 10)) -> Canvas:
    """One saturated colour, edge to edge (as Klein's blues)."""
    rng = np.random.default_rng(seed)
    img = np.empty((h, w, 3), np.float32)
    img[:] = colour
    img += _smooth(rng, w, h, 30, 4.0)[..., None]
    return Canvas(np.clip(img, 0, 255).astype(np.uint8), rng)


#: Works a keypoint detector finds (almost) nothing on, by id: (painter, seed).
TEXTURELESS_PAINTERS: dict[str, tuple[Callable[[int], Canvas], int]] = {
    "black-painting": (black_painting, 21),
    "gold-ground": (gold_ground, 22),
    "blue-monochrome": (monochrome, 23),
}

_MOTIFS = ("sun", "house", "tree", "boat", "flower", "face", "shapes", "lighthouse", "vase", "fruit")


def random_painting(seed: int, w: int | None = None, h: int | None = None) -> Canvas:
    """A random composition of motifs on a random ground: distractors and 'other pictures'."""
    rng = np.random.default_rng(seed)
    w = w or int(rng.integers(420, 820))
    h = h or int(rng.integers(420, 820))
    top, bottom = (
        tuple(int(v) for v in rng.integers(0, 256, 3)),
        tuple(int(v) for v in rng.integers(0, 256, 3)),
    )
    cv = Canvas(gradient(w, h, top, bottom), rng)
    for k in range(int(rng.integers(3, 7))):
        kind = _MOTIFS[int(rng.integers(len(_MOTIFS)))]
        x, y, s = rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.85) * h, rng.uniform(0.12, 0.3) * min(w, h)
        name = f"{kind}-{k}"
        {
            "sun": lambda: sun(cv, name, x, y, s * 0.4, tuple(int(v) for v in rng.integers(0, 256, 3))),
            "house": lambda: house(cv, name, x - s / 2, y - s / 2, s, s),
            "tree": lambda: tree(cv, name, x, y + s / 2, s * 1.2),
            "boat": lambda: boat(cv, name, x, y, s * 0.5),
            "flower": lambda: flower(cv, name, x, y, s * 0.4, tuple(int(v) for v in rng.integers(0, 256, 3))),
            "face": lambda: face(cv, name, x, y, s),
            "shapes": lambda: shapes(cv, name, x, y, s * 0.7),
            "lighthouse": lambda: lighthouse(cv, name, x, y + s / 2, s * 1.2),
            "vase": lambda: vase(cv, name, x, y + s / 2, s),
            "fruit": lambda: fruit(cv, name, x - s / 2, y, s * 0.4),
        }[kind]()
    return _finish(cv, strokes=float(rng.uniform(0.5, 1.5)))


# --- things that are not artworks: walls, rooms, textures --------------------------------------
def wall(seed: int, w: int, h: int) -> np.ndarray:
    """A museum wall: plaster, panels, bricks or fabric, with uneven light."""
    rng = np.random.default_rng(seed)
    base = np.array(rng.integers(90, 240, 3), np.float32)
    kind = int(rng.integers(4))
    img = np.empty((h, w, 3), np.float32)
    img[:] = base
    noise = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), rng.uniform(1, 6))
    img += noise[..., None] * rng.uniform(3, 12)
    if kind == 1:  # wooden panels
        step = int(rng.integers(40, 120))
        for x in range(0, w, step):
            cv2.line(img, (x, 0), (x, h), tuple(float(c) * 0.7 for c in base), 2)
    elif kind == 2:  # bricks
        bh, bw = int(rng.integers(18, 40)), int(rng.integers(50, 110))
        for row, y in enumerate(range(0, h, bh)):
            cv2.line(img, (0, y), (w, y), (200, 200, 200), 2)
            for x in range(-(row % 2) * bw // 2, w, bw):
                cv2.line(img, (x, y), (x, y + bh), (200, 200, 200), 2)
    elif kind == 3:  # fabric
        img += (np.sin(np.arange(w) / rng.uniform(2, 6))[None, :, None] * rng.uniform(2, 8)).astype(
            np.float32
        )
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lx, ly = rng.uniform(0, w), rng.uniform(-h, h)
    light = 1.15 - 0.35 * np.sqrt((xx - lx) ** 2 + (yy - ly) ** 2) / np.hypot(w, h)
    return np.clip(img * light[..., None], 0, 255).astype(np.uint8)


def room(seed: int, w: int, h: int) -> np.ndarray:
    """A gallery room seen in perspective: floor, walls, a doorway, a bench, visitors."""
    rng = np.random.default_rng(seed)
    img = wall(seed, w, h)
    horizon = int(h * rng.uniform(0.55, 0.7))
    floor = np.array(rng.integers(40, 160, 3))
    cv2.fillPoly(
        img, [np.array([[0, h], [w, h], [w, horizon], [0, horizon]], np.int32)], tuple(int(c) for c in floor)
    )
    vx = rng.uniform(0.3, 0.7) * w
    for k in range(-6, 7):
        cv2.line(
            img,
            (int(vx), horizon),
            (int(vx + k * w / 4), h),
            tuple(int(c * 0.8) for c in floor),
            1,
            cv2.LINE_AA,
        )
    dx = int(rng.uniform(0.1, 0.8) * w)
    cv2.rectangle(img, (dx, int(horizon * 0.35)), (dx + int(w * 0.12), horizon), (50, 50, 50), -1)
    cv2.rectangle(img, (int(w * 0.3), int(h * 0.8)), (int(w * 0.7), int(h * 0.86)), (40, 60, 90), -1)
    for _ in range(int(rng.integers(0, 4))):  # visitors as silhouettes
        px, ph = rng.uniform(0, w), rng.uniform(0.35, 0.7) * h
        col = tuple(int(v) for v in rng.integers(20, 200, 3))
        cv2.ellipse(img, (int(px), int(h - ph * 0.45)), (int(ph * 0.14), int(ph * 0.4)), 0, 0, 360, col, -1)
        cv2.circle(img, (int(px), int(h - ph * 0.92)), int(ph * 0.08), (120, 150, 190), -1)
    return img


def texture(seed: int, w: int, h: int) -> np.ndarray:
    """Noise, stripes, checks or blobs: hard textures that are no artwork."""
    rng = np.random.default_rng(seed)
    kind = int(rng.integers(4))
    if kind == 0:
        img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        return cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 3))
    if kind == 1:
        period = rng.uniform(6, 40)
        angle = rng.uniform(0, np.pi)
        yy, xx = np.mgrid[0:h, 0:w]
        s = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) / period * 2 * np.pi) > 0
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        return np.where(s[..., None], a, b).astype(np.uint8)
    if kind == 2:
        cell = int(rng.integers(10, 60))
        yy, xx = np.mgrid[0:h, 0:w]
        s = ((xx // cell + yy // cell) % 2).astype(bool)
        return np.where(s[..., None], rng.integers(0, 256, 3), rng.integers(0, 256, 3)).astype(np.uint8)
    img = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
    for _ in range(60):
        cv2.circle(
            img,
            (int(rng.uniform(0, w)), int(rng.uniform(0, h))),
            int(rng.uniform(5, 60)),
            tuple(int(v) for v in rng.integers(0, 256, 3)),
            -1,
            cv2.LINE_AA,
        )
    return img


def negative(seed: int, w: int = 640, h: int = 480) -> tuple[str, np.ndarray]:
    """A frame with no guide artwork in it: a wall, a room, a texture or another picture."""
    kind = ("wall", "room", "texture", "picture")[seed % 4]
    if kind == "picture":
        from ..imaging import fit_within

        img = wall(seed, w, h)
        pic, _ = fit_within(random_painting(seed + 10_000_000).image, int(min(w, h) * 0.8))
        y, x = (h - pic.shape[0]) // 2, (w - pic.shape[1]) // 2
        img[y : y + pic.shape[0], x : x + pic.shape[1]] = pic
        return kind, img
    return kind, {"wall": wall, "room": room, "texture": texture}[kind](seed, w, h)
