"""A harder virtual camera: paintings hung among other paintings in ornate rooms, as a visitor's
phone sees them.

The easy camera (:mod:`.camera`) shows one painting filling most of the frame over a plain wall.
Museums are busier, and this is where recognition fails. Each view of :class:`MuseumCamera`:

- hangs the painting on one wall plane with its neighbours (other paintings: procedural ones,
  real ones that are not in the guide, and guide paintings cut by the frame's edge), in gilded,
  carved frames (some round), on a damask, frescoed, gilded or carved-wood wall;
- sees that plane through a phone-like lens (about 65 degrees across) from a steep angle (up to
  ``max_tilt``), the painting small in the frame (``whole_area`` of the frame's area; detail
  close-ups ``detail_area``);
- and, each with its own chance, puts visitors between the phone and the painting, glass with
  reflections and glare over it, and dim light with sensor noise and motion blur; then the usual
  photometric changes.

Ground truth is exact, as in the easy camera: the homography from the painting's pixels to the
frame. A guide painting hung as a neighbour is only ever partly in view (at most
``guide_neighbour_visible`` of it, and much less of the frame than the viewed painting), so that a
view has one right answer. Negatives (:meth:`MuseumCamera.negative`) are the same rooms with no
guide painting in view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..augment.transforms import photometric
from ..geometry import box_quad, polygon_in_frame, project_quad
from ..vocabulary import Preset
from . import ornament, pictures
from .camera import LANDSCAPE, PORTRAIT, View, detail_target, details_truth, rotation


@dataclass(frozen=True)
class MuseumParams:
    """How hard the museum views are."""

    max_tilt: float = 45.0  # degrees between the phone's axis and the wall's normal
    hfov: float = 65.0  # the phone lens' field of view across the frame's long side, degrees
    whole_area: tuple[float, float] = (0.10, 0.25)  # share of the frame a whole painting covers...
    detail_area: tuple[float, float] = (0.10, 0.40)  # ...and a detail box in a close-up
    offset: float = 0.22  # the target's centre, off the frame's centre (fraction of the frame)
    portrait_share: float = 0.4
    visitors: float = 0.3  # chance of visitors in front of the painting
    glass: float = 0.3  # chance of glass (reflection and glare) over it
    dim: float = 0.3  # chance of dim light, sensor noise and motion blur
    neighbours: tuple[float, ...] = (
        0.85,
        0.85,
        0.6,
        0.6,
        0.45,
        0.45,
    )  # left, right, above, below, 2nd left, 2nd right
    guide_neighbour_visible: float = 0.4  # most of a guide painting hung beside it that may show
    # the conditions above bring their own blur, noise and glare: the rest of the camera is light
    photometric: str = Preset.LIGHT


@dataclass
class Hanging:
    """The pictures a museum view may hang beside its painting.

    ``guide``: paintings in the guide (hung only partly in view: a view must have one answer);
    ``others``: real paintings that are not in the guide (hung freely);
    ``fresco_sources``: pictures frescoes are painted from (mirrored and recoloured, so they are
    no painting anyone could name).
    """

    guide: dict[str, np.ndarray] = field(default_factory=dict)
    others: list[np.ndarray] = field(default_factory=list)
    fresco_sources: list[np.ndarray] = field(default_factory=list)


def phone_homography(
    target: tuple[float, float, float, float],
    frame: tuple[int, int],
    rng: np.random.Generator,
    params: MuseumParams,
    area: tuple[float, float],
) -> np.ndarray:
    """Wall pixels -> frame pixels for a phone of field of view ``params.hfov`` looking at
    ``target`` (x, y, w, h on the wall) from up to ``max_tilt`` degrees, the target covering a
    share ``area`` of the frame, its centre up to ``offset`` off the frame's centre."""
    fw, fh = frame
    f = max(fw, fh) / 2 / np.tan(np.radians(params.hfov) / 2)
    K = np.array([[f, 0, fw / 2], [0, f, fh / 2], [0, 0, 1]])
    tx, ty, tw, th = target
    s = max(tw, th)
    A = np.array([[1 / s, 0, -(tx + tw / 2) / s], [0, 1 / s, -(ty + th / 2) / s], [0, 0, 1]])
    tilt = params.max_tilt * np.sqrt(rng.uniform())
    direction = rng.uniform(0, 2 * np.pi)
    R = rotation(tilt * np.cos(direction), tilt * np.sin(direction), rng.normal(0, 4))
    want = rng.uniform(*area) * fw * fh
    centre = np.array([fw, fh]) * (0.5 + rng.uniform(-params.offset, params.offset, 2))
    ray = np.linalg.solve(K, [*centre, 1.0])  # the target's centre is seen along this ray
    depth = 2.0
    for _ in range(4):  # area goes as 1/depth^2 (nearly: perspective), so a few steps settle it
        t = ray / ray[2] * depth
        H = K @ np.c_[R[:, :2], t] @ A
        quad = project_quad(H, target)
        got = abs(cv2.contourArea(quad)) if quad is not None else 0.0
        if got <= 0:
            depth *= 1.5
            continue
        depth *= np.sqrt(got / want)
    t = ray / ray[2] * depth
    return K @ np.c_[R[:, :2], t] @ A


def _local_scale(H: np.ndarray, x: float, y: float) -> float:
    """Frame pixels per wall pixel around (x, y) under ``H``."""
    quad = project_quad(H, (x - 0.5, y - 0.5, 1.0, 1.0))
    return float(np.sqrt(abs(cv2.contourArea(quad)))) if quad is not None else 1.0


def _paste(canvas: np.ndarray, image: np.ndarray, mask: np.ndarray | None, x: int, y: int) -> None:
    """``image`` onto ``canvas`` at (x, y), clipped, through ``mask`` (0..255) when given."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(canvas.shape[1], x + w), min(canvas.shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        return
    part = image[y0 - y : y1 - y, x0 - x : x1 - x]
    if mask is None:
        canvas[y0:y1, x0:x1] = part
        return
    a = (mask[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) / 255.0)[..., None]
    canvas[y0:y1, x0:x1] = (part * a + canvas[y0:y1, x0:x1] * (1 - a)).astype(np.uint8)


@dataclass
class _Hung:
    """A picture on the wall: its image (frame included), mask, where (wall pixels), what it is."""

    image: np.ndarray
    box: tuple[float, float, float, float]  # the picture, frame excluded
    band: float  # the frame's width
    round_: bool = False
    guide_id: str | None = None


def visitor(rng: np.random.Generator, w: int, h: int, cx: float, top: float) -> tuple[np.ndarray, np.ndarray]:
    """A visitor seen from behind, head and shoulders, out of focus: (image, mask 0..255) of a
    ``w`` x ``h`` frame, head centred at ``cx``, head top at ``top``."""
    mask = np.zeros((h, w), np.uint8)
    head = max(12.0, (h - top) * rng.uniform(0.18, 0.28))
    hy = top + head
    cv2.ellipse(mask, (int(cx), int(hy)), (int(head * 0.8), int(head)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    neck_w = head * 0.5
    cv2.rectangle(mask, (int(cx - neck_w), int(hy)), (int(cx + neck_w), int(hy + head * 1.4)), 255, -1)
    sh_y = hy + head * 1.3
    cv2.ellipse(
        mask,
        (int(cx), int(sh_y + head * 2)),
        (int(head * rng.uniform(2.2, 3.0)), int(head * 2.2)),
        0,
        180,
        360,
        255,
        -1,
    )
    cv2.rectangle(mask, (int(cx - head * 2.6), int(sh_y + head * 1.9)), (int(cx + head * 2.6), h), 255, -1)
    cloth = pictures.texture(int(rng.integers(2**31)), w, h)
    img = (cloth.astype(np.float32) * rng.uniform(0.4, 0.9)).astype(np.uint8)
    hair = np.zeros((h, w), np.uint8)
    cv2.ellipse(
        hair, (int(cx), int(hy - head * 0.1)), (int(head * 0.85), int(head * 0.95)), 0, 0, 360, 255, -1
    )
    hair_col = np.array(rng.choice([[20, 25, 30], [30, 60, 100], [150, 170, 190], [40, 40, 45]]), np.uint8)
    img[hair > 0] = hair_col
    sigma = rng.uniform(1.5, 4.0)  # nearer than the wall: out of focus
    return cv2.GaussianBlur(img, (0, 0), sigma), cv2.GaussianBlur(mask, (0, 0), sigma)


def add_visitors(
    frame: np.ndarray,
    painting: np.ndarray,
    rng: np.random.Generator,
    cover: tuple[float, float] = (0.08, 0.4),
) -> tuple[np.ndarray, float]:
    """One or two visitors in front of ``painting`` (its mask in the frame), hiding a share of it
    within ``cover`` when they can: (frame, share hidden)."""
    h, w = frame.shape[:2]
    ys, xs = np.nonzero(painting)
    if not len(xs):
        return frame, 0.0
    total = float(len(xs))
    out = frame.copy()
    hidden = np.zeros((h, w), np.float32)
    for _ in range(int(rng.integers(1, 3))):
        for _try in range(6):
            cx = rng.uniform(xs.min(), xs.max())
            top = rng.uniform(np.percentile(ys, 40), h * 0.95)
            img, mask = visitor(rng, w, h, cx, top)
            m = mask.astype(np.float32) / 255.0
            share = float((np.maximum(hidden, m) * (painting > 0)).sum() / total)
            if share <= cover[1]:
                out = (img * m[..., None] + out * (1 - m[..., None])).astype(np.uint8)
                hidden = np.maximum(hidden, m)
                break
    return out, float((hidden * (painting > 0)).sum() / total)


def add_glass(frame: np.ndarray, painting: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Glass over the painting: a blurred reflection of the room and one or two bright glare spots."""
    h, w = frame.shape[:2]
    room = pictures.room(int(rng.integers(2**31)), w, h)[:, ::-1]
    room = cv2.GaussianBlur(room, (0, 0), rng.uniform(3, 8)).astype(np.float32)
    glass = cv2.dilate(painting, np.ones((9, 9), np.uint8)).astype(np.float32)[..., None] / 255.0
    out = frame.astype(np.float32)
    a = rng.uniform(0.08, 0.25)
    out = out * (1 - a * glass) + room * a * glass
    ys, xs = np.nonzero(painting)
    if len(xs):
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        for _ in range(int(rng.integers(0, 2)) + 1):
            i = int(rng.integers(len(xs)))
            cx, cy = float(xs[i]), float(ys[i])
            ang = rng.uniform(0, np.pi)
            sx, sy = rng.uniform(0.02, 0.08) * w, rng.uniform(0.01, 0.03) * w
            u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
            v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
            g = np.exp(-((u / sx) ** 2 + (v / sy) ** 2)) * rng.uniform(0.6, 1.0) * glass[..., 0]
            out = out * (1 - g[..., None]) + 255.0 * g[..., None]
    return np.clip(out, 0, 255).astype(np.uint8)


def dim_and_shaky(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Dim light (darker, lower contrast, high-ISO noise) and a hand's motion blur."""
    # the phone raises its gain in dim rooms: the picture comes out a little dark and noisy
    level = rng.uniform(0.12, 0.3)
    img: np.ndarray = frame.astype(np.float32) * level
    n = int(rng.integers(3, 10))
    kernel: np.ndarray = np.zeros((n, n), np.float32)
    kernel[n // 2, :] = 1.0 / n
    kernel = cv2.warpAffine(
        kernel, cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0), (n, n)
    )
    kernel = (kernel / max(float(kernel.sum()), 1e-6)).astype(np.float32)
    img = cv2.filter2D(img, -1, kernel)
    img = img + rng.normal(0, rng.uniform(1.2, 2.5), img.shape).astype(np.float32)  # read and shot noise
    img = img * (rng.uniform(0.5, 0.8) / level)
    return np.clip(img, 0, 255).astype(np.uint8)


class MuseumCamera:
    """Draws museum views of artworks (and museum scenes without them) deterministically from a seed."""

    #: Procedural paintings drawn once per camera, then varied per view (drawing one costs ~0.2 s).
    PROCEDURAL = 24

    def __init__(self, hanging: Hanging, params: MuseumParams | None = None):
        self.hanging = hanging
        self.params = params or MuseumParams()
        self._photo = photometric(self.params.photometric)
        self._pool: list[np.ndarray] = []

    def procedural(self, rng: np.random.Generator) -> np.ndarray:
        """A procedural painting: one of the camera's, cropped, maybe mirrored, recoloured."""
        if not self._pool:
            self._pool = [
                pictures.random_painting(40_000_000 + i, int(320 * a), int(320 / a)).image
                for i, a in enumerate(np.linspace(0.75, 1.3, self.PROCEDURAL))
            ]
        image = self._pool[int(rng.integers(len(self._pool)))]
        h, w = image.shape[:2]
        fx, fy = rng.uniform(0.7, 1.0, 2)
        x, y = int(rng.uniform(0, w * (1 - fx))), int(rng.uniform(0, h * (1 - fy)))
        image = image[y : y + int(h * fy), x : x + int(w * fx)]
        if rng.uniform() < 0.5:
            image = image[:, ::-1]
        hsv = cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(180))) % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)

    # --- what hangs beside the painting ---------------------------------------------------
    def _picture(self, rng: np.random.Generator, allow_guide: bool) -> tuple[np.ndarray, str | None, bool]:
        """(image, guide id or None, round) of a picture to hang."""
        roll = rng.uniform()
        guide_ids = sorted(self.hanging.guide)
        if allow_guide and guide_ids and roll < 0.3:
            gid = guide_ids[int(rng.integers(len(guide_ids)))]
            return self.hanging.guide[gid], gid, False
        if self.hanging.others and roll < 0.6:
            return self.hanging.others[int(rng.integers(len(self.hanging.others)))], None, False
        return self.procedural(rng), None, rng.uniform() < 0.2

    def _hang(
        self, rng: np.random.Generator, aw: int, ah: int, band: int, allow_guide: bool, skip: str | None
    ) -> list[_Hung]:
        """Neighbours round a painting of ``aw`` x ``ah`` (framed by ``band``), salon style."""
        p = self.params
        s = max(aw, ah)
        hung: list[_Hung] = []
        placed: dict[str, tuple[float, float, float, float]] = {}
        for slot, chance in zip(("left", "right", "above", "below", "left2", "right2"), p.neighbours):
            if rng.uniform() >= chance:
                continue
            image, gid, round_ = self._picture(rng, allow_guide)
            if gid is not None and gid == skip:
                continue
            scale = s * rng.uniform(0.5, 1.3) / max(image.shape[:2])
            nw, nh = image.shape[1] * scale, image.shape[0] * scale
            nb = band * rng.uniform(0.6, 1.4)
            gap = s * rng.uniform(0.06, 0.3)
            ow, oh = nw + 2 * nb, nh + 2 * nb
            if slot in ("left2", "right2"):
                inner = placed.get(slot[:-1])
                if inner is None:
                    continue
                x = inner[0] - gap - ow if slot == "left2" else inner[0] + inner[2] + gap
                y = inner[1] + inner[3] / 2 - oh / 2 + rng.uniform(-0.2, 0.2) * oh
            elif slot in ("left", "right"):
                x = -band - gap - ow if slot == "left" else aw + band + gap
                y = ah / 2 - oh / 2 + rng.uniform(-0.3, 0.3) * ah
            else:
                x = aw / 2 - ow / 2 + rng.uniform(-0.4, 0.4) * aw
                y = -band - gap - oh if slot == "above" else ah + band + gap
            placed[slot] = (x, y, ow, oh)
            hung.append(_Hung(image, (x + nb, y + nb, nw, nh), nb, round_, gid))
        return hung

    # --- the wall, seen through the phone ---------------------------------------------------
    def _scene(
        self,
        rng: np.random.Generator,
        art: np.ndarray,
        H: np.ndarray,
        frame: tuple[int, int],
        allow_guide: bool,
        skip: str | None,
        target_area: float,
    ) -> np.ndarray:
        """The frame: the wall with ``art`` at wall pixels (0, 0) and its neighbours, seen through ``H``."""
        fw, fh = frame
        ah, aw = art.shape[:2]
        s = max(aw, ah)
        band = max(3, int(s * rng.uniform(0.04, 0.11)))
        hung = self._hang(rng, aw, ah, band, allow_guide, skip)
        # a guide painting beside the viewed one may only be partly in view, and much less than it
        kept = []
        for n in hung:
            quad = project_quad(H, n.box)
            if quad is None:
                continue
            vis, area, _ = polygon_in_frame(quad, frame)
            if n.guide_id is not None and (
                not allow_guide or vis > self.params.guide_neighbour_visible or area > 0.5 * target_area
            ):
                n.image, n.guide_id = self.procedural(rng), None
            kept.append(n)
        # the part of the wall in view, in wall pixels (bounded where the wall's horizon shows)
        extent = 1.8 * s
        inv = np.linalg.inv(H)
        corners = np.c_[box_quad((0, 0, fw, fh)), np.ones(4)] @ inv.T
        # the frame's corners all on one side of the wall's horizon: the whole frame sees the wall
        if np.all(corners[:, 2] > 1e-9) or np.all(corners[:, 2] < -1e-9):
            pts = corners[:, :2] / corners[:, 2:3]
            x0, y0 = np.maximum(pts.min(0), (-extent, -extent))
            x1, y1 = np.minimum(pts.max(0), (aw + extent, ah + extent))
        else:
            x0, y0, x1, y1 = -extent, -extent, aw + extent, ah + extent
        x0, y0 = min(x0, -band), min(y0, -band)
        x1, y1 = max(x1, aw + band), max(y1, ah + band)
        k = min(1.0, 1.25 * _local_scale(H, aw / 2, ah / 2), 1600 / max(x1 - x0, y1 - y0))
        cw, ch = int((x1 - x0) * k) + 1, int((y1 - y0) * k) + 1
        _, canvas = ornament.ornate_wall(int(rng.integers(2**31)), cw, ch, self.hanging.fresco_sources)

        def to_canvas(x: float, y: float) -> tuple[int, int]:
            return int(round((x - x0) * k)), int(round((y - y0) * k))

        for n in kept:
            nb = n.band
            pw, ph = max(4, int(n.box[2] * k)), max(4, int(n.box[3] * k))
            pic = cv2.resize(n.image, (pw, ph), interpolation=cv2.INTER_AREA)
            img, mask = ornament.framed(pic, int(rng.integers(2**31)), nb / max(n.box[2], n.box[3]), n.round_)
            ox, oy = to_canvas(n.box[0] - nb, n.box[1] - nb)
            _paste(canvas, img, mask, ox, oy)
        # the viewed painting in its own gilded frame, its pixels exactly where H says
        bw = max(3, int(band * k))
        fx, fy = to_canvas(-band, -band)
        tw, th = to_canvas(aw + band, ah + band)
        _paste(canvas, ornament.frame_band(int(rng.integers(2**31)), tw - fx, th - fy, bw), None, fx, fy)
        C = H @ np.array([[1 / k, 0, x0], [0, 1 / k, y0], [0, 0, 1]])
        wall = cv2.warpPerspective(canvas, C, frame, flags=cv2.INTER_LINEAR)
        cover = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), C, frame, flags=cv2.INTER_NEAREST)
        flags = cv2.INTER_AREA if np.linalg.det(H[:2, :2]) / H[2, 2] ** 2 < 1 else cv2.INTER_LINEAR
        warped = cv2.warpPerspective(art, H, frame, flags=flags)
        mask = cv2.warpPerspective(np.full((ah, aw), 255, np.uint8), H, frame, flags=cv2.INTER_LINEAR)
        room_seed = int(rng.integers(2**31))
        out = wall
        if not cover.all():  # beyond the wall's edge (or its horizon): another ornate surface
            _, room = ornament.ornate_wall(room_seed, fw, fh, self.hanging.fresco_sources)
            out = np.where(cover[..., None] > 0, wall, room)
        a = (mask.astype(np.float32) / 255.0)[..., None]
        return (warped * a + out * (1 - a)).astype(np.uint8)

    def _conditions(
        self, rng: np.random.Generator, image: np.ndarray, painting: np.ndarray
    ) -> tuple[np.ndarray, tuple[str, ...]]:
        p = self.params
        seen = []
        if rng.uniform() < p.visitors:
            image, hidden = add_visitors(image, painting, rng)
            if hidden > 0:
                seen.append("visitors")
        if rng.uniform() < p.glass:
            image = add_glass(image, painting, rng)
            seen.append("glass")
        if rng.uniform() < p.dim:
            image = dim_and_shaky(image, rng)
            seen.append("dim")
        self._photo.set_random_seed(int(rng.integers(2**31)))
        return self._photo(image=image)["image"], tuple(seen)

    def _frame_size(self, rng: np.random.Generator) -> tuple[int, int]:
        return PORTRAIT if rng.uniform() < self.params.portrait_share else LANDSCAPE

    def _placed(
        self,
        rng: np.random.Generator,
        size: tuple[int, int],
        target: tuple,
        area: tuple[float, float],
        need: float,
        whole: tuple,
    ) -> np.ndarray:
        """A homography that keeps at least ``need`` of ``target`` in the frame (retrying the draw)."""
        for _ in range(20):
            H = phone_homography(target, size, rng, self.params, area)
            quad = project_quad(H, whole)
            tq = project_quad(H, target)
            if quad is not None and tq is not None and polygon_in_frame(tq, size)[0] >= need:
                return H
        return H

    def view(
        self, artwork_id: str, image: np.ndarray, boxes: dict[str, tuple], seed: int, focus: str | None = None
    ) -> View:
        """A museum view of the whole artwork, or a close-up of detail ``focus``."""
        rng = np.random.default_rng(seed)
        size = self._frame_size(rng)
        ah, aw = image.shape[:2]
        whole = (0, 0, aw, ah)
        if focus is None:
            target, area, need = whole, self.params.whole_area, 0.9
        else:
            target, area, need = detail_target(boxes[focus], (aw, ah), rng), self.params.detail_area, 0.95
        H = self._placed(rng, size, target, area, need, whole)
        quad = project_quad(H, whole)
        target_area = polygon_in_frame(quad, size)[1] if quad is not None else 0.0
        frame = self._scene(rng, image, H, size, True, artwork_id, target_area)
        painting = cv2.warpPerspective(np.full((ah, aw), 255, np.uint8), H, size, flags=cv2.INTER_NEAREST)
        frame, conditions = self._conditions(rng, frame, painting)
        return View(
            frame,
            artwork_id,
            "whole" if focus is None else "detail",
            focus,
            H,
            details_truth(H, boxes, size),
            conditions,
        )

    def negative(self, seed: int, picture: np.ndarray | None = None, kind: str = "museum") -> View:
        """A museum view with no guide painting in it: a picture that is not in the guide
        (``picture``, else a procedural one) hung among others, as :meth:`view` shows paintings."""
        rng = np.random.default_rng(seed)
        size = self._frame_size(rng)
        if picture is None:
            picture = self.procedural(rng)
        ah, aw = picture.shape[:2]
        H = self._placed(rng, size, (0, 0, aw, ah), self.params.whole_area, 0.9, (0, 0, aw, ah))
        frame = self._scene(rng, picture, H, size, False, None, 0.0)
        painting = cv2.warpPerspective(np.full((ah, aw), 255, np.uint8), H, size, flags=cv2.INTER_NEAREST)
        frame, conditions = self._conditions(rng, frame, painting)
        return View(frame, None, kind, conditions=conditions)


def museum_hanging(
    guide: dict[str, np.ndarray], others: list[np.ndarray], with_guide: bool = True
) -> Hanging:
    """The hard level's walls: the guide's paintings partly in view beside the one viewed (none
    when ``with_guide`` is False: views of negatives show none of them), the other paintings hung
    freely, frescoes painted from all of them."""
    return Hanging(guide if with_guide else {}, others, fresco_sources(list(guide.values()) + others))


def fresco_sources(images: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Pictures to paint frescoes from, shrunk (frescoes are seen small)."""
    out = []
    for im in images:
        s = 400 / max(im.shape[:2])
        out.append(cv2.resize(im, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else im)
    return out
