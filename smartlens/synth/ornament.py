"""Ornate surroundings drawn from code: damask and frescoed walls, gilded and carved relief,
picture frames, round tondi.

What a museum puts around a painting is often busier than the painting: gilded frames, carved
wood, wall hangings, frescoed rooms. These surfaces are full of corners and blobs, so they take a
keypoint detector's budget away from the artwork; the hard benchmark level hangs its paintings
among them. Everything is deterministic under a seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

#: Gold leaf, in BGR, and the dark of its recesses.
GOLD, GOLD_DARK = np.array([60, 165, 215], np.float32), np.array([10, 50, 90], np.float32)


def _noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), sigma)


def shade_relief(
    height: np.ndarray, light: tuple[float, float] = (-0.6, -0.8), depth: float = 6.0
) -> np.ndarray:
    """Lambertian shading (0..~1.5) of a height map lit from ``light`` (x, y, towards the viewer)."""
    gx = cv2.Sobel(height, cv2.CV_32F, 1, 0, ksize=3) * depth
    gy = cv2.Sobel(height, cv2.CV_32F, 0, 1, ksize=3) * depth
    lx, ly = light
    lz = 1.0
    norm = np.sqrt(gx * gx + gy * gy + 1.0)
    return np.clip((-gx * lx - gy * ly + lz) / (norm * np.sqrt(lx * lx + ly * ly + lz * lz)), 0, None)


def relief_colour(height: np.ndarray, shade: np.ndarray, base: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """Colour a shaded relief: recesses dark, raised parts in ``base``, highlights near white."""
    t = np.clip(height, 0, 1)
    lit = shade * 1.25
    sheen = np.clip(shade - 1.0, 0, None) * (2.5 * 255)  # specular sheen on gilding
    out = np.empty((*height.shape, 3), np.float32)
    for c in range(3):
        out[..., c] = (dark[c] + (base[c] - dark[c]) * t) * lit + sheen
    return np.clip(out, 0, 255, out=out)


def _ornament_stamp(rng: np.random.Generator, size: int) -> np.ndarray:
    """One carved ornament (a rosette, a leaf scroll or a shell) as a height map, mirror-symmetric."""
    img = np.zeros((size, size), np.float32)
    c = size // 2
    kind = int(rng.integers(3))
    if kind == 0:  # rosette
        petals = int(rng.integers(5, 10))
        for k in range(petals):
            a = 360.0 * k / petals
            cv2.ellipse(img, (c, c), (int(size * 0.42), int(size * 0.13)), a, 0, 360, 0.7, -1, cv2.LINE_AA)
        cv2.circle(img, (c, c), int(size * 0.14), 1.0, -1, cv2.LINE_AA)
    elif kind == 1:  # leaf scroll
        for k in range(int(rng.integers(3, 6))):
            r = size * (0.18 + 0.06 * k)
            cv2.ellipse(
                img, (c, c), (int(r), int(r * 0.6)), 0, 200 - 25 * k, 340 + 10 * k, 0.9, 2, cv2.LINE_AA
            )
        cv2.ellipse(
            img, (c, int(size * 0.7)), (int(size * 0.3), int(size * 0.12)), 0, 0, 360, 0.6, -1, cv2.LINE_AA
        )
    else:  # shell
        ribs = int(rng.integers(6, 12))
        for k in range(ribs):
            a = np.pi * (0.1 + 0.8 * k / max(1, ribs - 1))
            p = (int(c + np.cos(a) * size * 0.45), int(size * 0.85 - np.sin(a) * size * 0.6))
            cv2.line(img, (c, int(size * 0.85)), p, 0.9, max(1, size // 16), cv2.LINE_AA)
        cv2.circle(img, (c, int(size * 0.85)), int(size * 0.1), 1.0, -1, cv2.LINE_AA)
    img = np.maximum(img, img[:, ::-1])  # carvings are symmetric
    return cv2.GaussianBlur(img, (0, 0), max(0.8, size / 40))


def _tile(stamp: np.ndarray, w: int, h: int, step: int, half_drop: bool = True) -> np.ndarray:
    """``stamp`` repeated every ``step`` pixels (each other column shifted by half a step)."""
    out = np.zeros((h + 2 * step, w + 2 * step), np.float32)
    s = stamp.shape[0]
    for col, x in enumerate(range(0, w + step, step)):
        dy = step // 2 if half_drop and col % 2 else 0
        for y in range(dy, h + step, step):
            out[y : y + s, x : x + s] = np.maximum(out[y : y + s, x : x + s], stamp)
    return out[step // 2 : step // 2 + h, step // 2 : step // 2 + w]


def gilded(seed: int, w: int, h: int, base: np.ndarray = GOLD, dark: np.ndarray = GOLD_DARK) -> np.ndarray:
    """Gilded, carved relief: repeated ornaments over a mottled gold ground (a frame, an altarpiece)."""
    rng = np.random.default_rng(seed)
    step = int(rng.integers(28, 70))
    height = 0.35 + 0.1 * _noise(rng, h, w, 2.0)
    height = np.maximum(height, _tile(_ornament_stamp(rng, int(step * 0.9)), w, h, step))
    if rng.uniform() < 0.6:  # a second, finer ornament in between
        fine = int(step * rng.uniform(0.3, 0.5))
        height = np.maximum(height, 0.8 * _tile(_ornament_stamp(rng, fine), w, h, step // 2 or 1, False))
    shade = shade_relief(height, (rng.uniform(-1, 1), rng.uniform(-1, -0.3)))
    wear = np.clip(0.85 + 0.3 * _noise(rng, h, w, 6), 0.5, 1.1)[..., None]  # worn leaf
    return (relief_colour(height, shade, base, dark) * wear).clip(0, 255).astype(np.uint8)


def carved_wood(seed: int, w: int, h: int) -> np.ndarray:
    """Dark carved wood: ornaments over a grained ground."""
    rng = np.random.default_rng(seed)
    base = np.array([30, 70, 120], np.float32) * rng.uniform(0.6, 1.2)
    grain = (
        np.sin(np.arange(w, dtype=np.float32)[None, :] / rng.uniform(3, 9) + 3 * _noise(rng, h, w, 12)) * 0.08
    )
    return np.clip(gilded(seed + 1, w, h, base, base * 0.25) * (1 + grain[..., None]), 0, 255).astype(
        np.uint8
    )


def damask(seed: int, w: int, h: int) -> np.ndarray:
    """A woven wall hanging: a symmetric ornament repeated in two tones (silk damask)."""
    rng = np.random.default_rng(seed)
    step = int(rng.integers(40, 110))
    motif = _tile(_ornament_stamp(rng, int(step * 0.95)), w, h, step)
    ground = np.array(rng.integers(30, 200, 3), np.float32)
    figure = np.clip(ground * rng.uniform(0.5, 1.6) + rng.integers(-40, 40, 3), 0, 255)
    t = np.clip(motif * 1.6, 0, 1)[..., None]
    img = ground * (1 - t) + figure * t
    img += np.sin(np.arange(w, dtype=np.float32) / 1.3)[None, :, None] * 4  # the weave
    return np.clip(img + 6 * _noise(rng, h, w, 1.0)[..., None], 0, 255).astype(np.uint8)


def fresco(seed: int, w: int, h: int, sources: Sequence[np.ndarray] = ()) -> np.ndarray:
    """A frescoed wall: faded painted panels (pieces of ``sources``, mirrored and recoloured so they
    match nothing, or procedural paintings) between painted borders, with cracks in the plaster."""
    from .pictures import random_painting

    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    img[:] = rng.integers(150, 225, 3)
    pw = int(rng.uniform(0.35, 0.7) * max(w, h))
    for y in range(0, h, pw):
        for x in range(0, w, pw):
            if sources:
                src = sources[int(rng.integers(len(sources)))]
                sh, sw = src.shape[:2]
                cw, ch = int(sw * rng.uniform(0.4, 0.8)), int(sh * rng.uniform(0.4, 0.8))
                x0, y0 = int(rng.uniform(0, sw - cw)), int(rng.uniform(0, sh - ch))
                piece = np.ascontiguousarray(src[y0 : y0 + ch, x0 : x0 + cw, :][:, ::-1])
                hsv = cv2.cvtColor(piece, cv2.COLOR_BGR2HSV)
                hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(20, 160))) % 180
                piece = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
            else:
                piece = random_painting(int(rng.integers(2**31))).image
            b = max(2, pw // 14)
            inner = cv2.resize(piece, (pw - 2 * b, pw - 2 * b), interpolation=cv2.INTER_AREA).astype(
                np.float32
            )
            yy, xx = min(h, y + pw - b), min(w, x + pw - b)
            if yy > y + b and xx > x + b:
                img[y + b : yy, x + b : xx] = inner[: yy - y - b, : xx - x - b]
    img = img * 0.6 + np.array([200, 210, 215], np.float32) * 0.4  # faded pigments, lime white
    for _ in range(int(rng.integers(4, 12))):  # cracks
        pts = np.cumsum(rng.normal(0, 12, (int(rng.integers(5, 20)), 2)), axis=0) + rng.uniform(0, 1, 2) * (
            w,
            h,
        )
        cv2.polylines(img, [pts.astype(np.int32)], False, (60, 60, 70), 1, cv2.LINE_AA)
    return np.clip(img + 8 * _noise(rng, h, w, 1.5)[..., None], 0, 255).astype(np.uint8)


def ornate_wall(seed: int, w: int, h: int, sources: Sequence[np.ndarray] = ()) -> tuple[str, np.ndarray]:
    """A busy museum wall, by kind: damask, fresco, gilded panelling or carved wood."""
    kind = ("damask", "fresco", "gilded", "wood")[seed % 4]
    if kind == "fresco":
        return kind, fresco(seed, w, h, sources)
    return kind, {"damask": damask, "gilded": gilded, "wood": carved_wood}[kind](seed, w, h)


def frame_band(seed: int, w: int, h: int, band: int) -> np.ndarray:
    """A gilded picture frame of outer size ``w`` x ``h`` and width ``band``: mouldings that run
    round it and carved ornaments between them (the inside is left for the picture)."""
    rng = np.random.default_rng(seed)
    height = np.zeros((h, w), np.float32)
    for k, level in enumerate(rng.uniform(0.3, 1.0, int(rng.integers(3, 6)))):  # mouldings
        inset = int(band * k / 5)
        cv2.rectangle(height, (inset, inset), (w - 1 - inset, h - 1 - inset), float(level), max(1, band // 8))
    if band >= 10:  # a row of carved ornaments along the middle of the band
        stamp = _ornament_stamp(rng, max(6, int(band * 0.6)))
        s = stamp.shape[0]
        mid = band // 2 - s // 2
        for x in range(band, w - band - s, int(s * rng.uniform(1.0, 1.6))):
            for y in (mid, h - mid - s):
                height[y : y + s, x : x + s] = np.maximum(height[y : y + s, x : x + s], stamp)
        for y in range(band, h - band - s, int(s * rng.uniform(1.0, 1.6))):
            for x in (mid, w - mid - s):
                height[y : y + s, x : x + s] = np.maximum(height[y : y + s, x : x + s], stamp.T)
    relief = cv2.GaussianBlur(height, (0, 0), max(0.7, band / 30)) + 0.05 * _noise(rng, h, w, 1)
    shade = shade_relief(relief, (rng.uniform(-1, 1), rng.uniform(-1, -0.3)))
    tint = np.clip(GOLD * rng.uniform(0.7, 1.15, 3), 0, 255)
    return relief_colour(relief, shade, tint, GOLD_DARK).astype(np.uint8)


def framed(
    picture: np.ndarray, seed: int, band_fraction: float, round_: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """``picture`` inside a gilded frame (a tondo when ``round_``): (image, mask of where it is opaque)."""
    ph, pw = picture.shape[:2]
    band = max(3, int(band_fraction * max(pw, ph)))
    h, w = ph + 2 * band, pw + 2 * band
    out = frame_band(seed, w, h, band)
    out[band : band + ph, band : band + pw] = picture
    mask = np.full((h, w), 255, np.uint8)
    if round_:
        ring = np.zeros((h, w), np.uint8)
        cv2.ellipse(ring, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 255, -1, cv2.LINE_AA)
        inner = np.zeros((h, w), np.uint8)
        cv2.ellipse(inner, (w // 2, h // 2), (pw // 2, ph // 2), 0, 0, 360, 255, -1, cv2.LINE_AA)
        gold = frame_band(seed + 1, w, h, max(w, h))  # all relief
        out = np.where(inner[..., None] > 0, out, gold)
        mask = ring
    return out, mask
