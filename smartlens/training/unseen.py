"""Validation and report views: unlike the training views, so that a model's figures say how it
does on views it never saw.

A training uses three sets of views, each for one thing:

- **training** views (the augmentation engine, :mod:`.views`): what the network learns from;
- **validation** views: every choice a training makes (the best epoch, each class's threshold,
  the open-set gate's threshold);
- **report** views: the figures ``metrics.json``, the studio and the CLI show, and nothing else.

Validation and report views come from another generator than the training views: the virtual
camera of :mod:`smartlens.synth.camera` (its own homographies, picture frames and photometric
pipeline with glare), with more tilt and roll, other scales and positions, and the artwork hung
among other paintings on a wall, in a gallery room, on a texture or on one of the curator's
negative pictures of that role, rather than alone on the engine's plain walls. Their negatives
are walls, rooms and textures and **paintings the model never saw** (generated ones, and the
curator's negative pictures set aside for that role), so the figures say how often another
painting is named. The curator's check photos (:mod:`.check_photos`) are added to the role they
were dealt to. Each role has its own seeds, far from the training views' and the benchmark's.

The report views are drawn, in turn, by the benchmark's two cameras (:data:`REPORT_LEVELS`): the
easy level's (one painting filling much of the frame on a plain wall) and the hard level's museum
camera (the painting small among other paintings, on ornate walls, with visitors, glass and dim
light), other seeds, the curator's negative pictures hung among them. The report gives its figures
for each level apart, so each says what the benchmark's level would; the validation views keep a
camera of their own (:data:`UNSEEN_CAMERA`), so no choice is made on views like either level's.

Each set is a folder in the engine's format (``images/``, ``labels/``, ``manifest.json``), so the
trainers read it as they read training views; each label also keeps where every detail lands in
the frame, so a model can be scored exactly as the benchmark scores it (:func:`view_of`).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from ..config import Settings
from ..guide import GuideRef, fingerprint
from ..imaging import encode_jpeg, fit_within, read_image
from ..progress import Progress, ProgressEvent, no_progress
from ..storage import atomic_write_bytes, atomic_write_json
from ..synth import pictures
from ..synth.camera import (
    LANDSCAPE,
    PORTRAIT,
    VIEW_MIX,
    Camera,
    CameraParams,
    DetailTruth,
    View,
    details_truth,
    render,
    view_homography,
)
from ..synth.museum import MuseumCamera, museum_hanging
from ..vocabulary import Preset
from .check_photos import REPORT, VALIDATION, CheckPhoto, check_photos
from .negatives import pictures_key

#: Changes whenever the views made from the same inputs change (so cached ones are not reused).
VERSION = 6
#: Seeds of each role (the training views use small ones, the benchmark 1-7 million).
ROLE_SEEDS = {VALIDATION: 8_000_000, REPORT: 9_000_000}
#: Kind of a negative that shows a painting the model never saw (the benchmark's prefix too).
PAINTING_KIND = "painting:"
#: A detail's box is a training target when this much of it is in the frame (as in the engine).
MIN_VISIBILITY = 0.5
MIN_SIDE_PX = 8
#: The benchmark levels whose cameras draw the report views, in turn (``level`` in each label).
REPORT_LEVELS = ("easy", "hard")

#: The camera of unseen views: more tilt and roll, smaller and larger artworks, further off-centre.
UNSEEN_CAMERA = CameraParams(
    max_tilt=45.0,
    whole_fill=(0.25, 0.95),
    detail_fill=(0.5, 0.95),
    max_roll=12.0,
    portrait_share=0.4,
    offset=0.16,
    photometric=Preset.MEDIUM,
)


@dataclass(frozen=True)
class UnseenParams:
    """One role's views: how many, from which seed, and the real pictures and photos it uses."""

    role: str
    per_image: int  # close-ups of each detail
    whole_views: int  # views of each whole artwork
    negatives: int
    seed: int
    max_side: int
    negative_pictures: tuple[str, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()  # (photo path, label)


def unseen_params(
    role: str,
    per_image: int,
    negatives: int,
    seed: int,
    max_side: int,
    negative_pictures: list[Path],
    ref: GuideRef,
    settings: Settings,
) -> UnseenParams:
    """The parameters of one role's views (its check photos found in the guide)."""
    photos: list[CheckPhoto] = check_photos(ref, settings.image_limits)[role]
    # the report set mixes whole views and close-ups as the benchmark does, so that figures that
    # count frames named by a detail (class top-1, detail recall by name) count alike in both
    whole = round(per_image * VIEW_MIX[0] / VIEW_MIX[1]) if role == REPORT else per_image
    return UnseenParams(
        role,
        int(per_image),
        int(whole),
        int(negatives),
        ROLE_SEEDS[role] + 10_000 * int(seed),
        int(max_side),
        tuple(str(p) for p in negative_pictures),
        tuple((str(c.path), c.label) for c in photos),
    )


def unseen_dir(ref: GuideRef, params: UnseenParams, settings: Settings) -> Path:
    """The cache folder of one role's views (its name depends on everything they are made of)."""
    key = hashlib.sha256(
        json.dumps(
            [
                VERSION,
                fingerprint(ref.guide, ref.root, visual_only=True),
                asdict(params),
                pictures_key(Path(p) for p in params.negative_pictures),
                pictures_key(Path(p) for p, _ in params.checks),
            ],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:12]
    return settings.cache / "train-data" / ref.guide.name / f"{params.role}-{key}"


class _Maker:
    """Draws the views of one role, each from its own seed (the same on every run)."""

    def __init__(self, ref: GuideRef, params: UnseenParams):
        self.ref, self.params = ref, params
        self.camera = Camera(UNSEEN_CAMERA)
        self._images: dict[str, np.ndarray] = {}
        self._levels: dict[str, tuple[Camera | MuseumCamera, MuseumCamera | None]] = {}

    def level_cameras(self, level: str) -> tuple[Camera | MuseumCamera, MuseumCamera | None]:
        """A report level's cameras as the benchmark sets them: (views of the artworks, views of
        negatives: for the museum camera one with no guide painting on its walls)."""
        if level not in self._levels:
            if level == "easy":
                self._levels[level] = (Camera(CameraParams()), None)
            else:
                guide = {
                    a.id: self._read(str(self.ref.path(a.image)), 100_000) for a in self.ref.guide.artworks
                }
                others = [self._read(p) for p in self.params.negative_pictures]
                self._levels[level] = (
                    MuseumCamera(museum_hanging(guide, others)),
                    MuseumCamera(museum_hanging(guide, others, with_guide=False)),
                )
        return self._levels[level]

    def _read(self, path: str, max_side: int = 1024) -> np.ndarray:
        if path not in self._images:
            self._images[path] = fit_within(read_image(path), max_side)[0]
        return self._images[path]

    def background(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        """What the artwork hangs on: a wall among other paintings, a gallery room, a texture, a
        wall, or a real picture of the role."""
        w, h = size
        seed = int(rng.integers(2**31))
        choice = rng.uniform()
        real = self.params.negative_pictures
        if real and choice < 0.1:
            image = self._read(real[int(rng.integers(len(real)))])
            return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        if choice < 0.45:
            return self.among_paintings(rng, size)
        if choice < 0.75:
            return pictures.room(seed, w, h)
        if choice < 0.9:
            return pictures.texture(seed, w, h)
        return pictures.wall(seed, w, h)

    def among_paintings(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        """A wall hung with other (generated) paintings in frames: the artwork is seen among them."""
        w, h = size
        canvas = pictures.wall(int(rng.integers(2**31)), w, h)
        for _ in range(int(rng.integers(1, 4))):
            other = pictures.random_painting(41_000_000 + int(rng.integers(1_000_000))).image
            side = int(rng.uniform(0.2, 0.45) * min(w, h))
            pic = fit_within(other, side)[0]
            ph, pw = pic.shape[:2]
            x, y = int(rng.integers(0, max(1, w - pw))), int(rng.integers(0, max(1, h - ph)))
            canvas[y : y + ph, x : x + pw] = pic[: h - y, : w - x]
            colour = tuple(int(v) for v in rng.integers(20, 200, 3))
            cv2.rectangle(canvas, (x, y), (x + pw, y + ph), colour, max(2, side // 30))
        return canvas

    def artwork_view(self, artwork: int, focus: str | None, seed: int, level: str | None = None) -> View:
        art = self.ref.guide.artworks[artwork]
        image = self._read(str(self.ref.path(art.image)), 100_000)
        boxes = {d.id: d.box for d in art.details}
        if level is not None:
            return self.level_cameras(level)[0].view(art.id, image, boxes, seed, focus)
        return self._hang(image, boxes, seed, art.id, focus)

    def _hang(
        self, image: np.ndarray, boxes: dict[str, tuple], seed: int, artwork: str | None, focus: str | None
    ) -> View:
        rng = np.random.default_rng(seed)
        frame = PORTRAIT if rng.uniform() < UNSEEN_CAMERA.portrait_share else LANDSCAPE
        ah, aw = image.shape[:2]
        if focus is None:
            target, fill = (0, 0, aw, ah), UNSEEN_CAMERA.whole_fill
        else:
            x, y, w, h = boxes[focus]
            m = rng.uniform(0.0, 0.4)  # some context around the detail
            target = (
                max(0, x - w * m),
                max(0, y - h * m),
                min(aw, w * (1 + 2 * m)),
                min(ah, h * (1 + 2 * m)),
            )
            fill = UNSEEN_CAMERA.detail_fill
        H = view_homography((aw, ah), target, frame, rng, UNSEEN_CAMERA, fill)
        drawn = render(image, H, frame, rng, self.background(rng, frame))
        drawn = self.camera.degrade(drawn, rng)
        kind = "whole" if focus is None else "detail"
        return View(drawn, artwork, kind, focus, H, details_truth(H, boxes, frame))

    def negative(self, k: int, seed: int, level: str | None = None) -> View:
        """The k-th negative: a painting never seen (a real picture of the role, or a generated
        one), hung like the artworks or seen up close; or a wall, room or texture (for a report
        level: that level's camera's, as the benchmark draws them)."""
        rng = np.random.default_rng(seed)
        real = self.params.negative_pictures
        kind = k % 3 if real else (1 + k % 2)  # 0 real picture, 1 generated painting, 2 no painting
        if kind == 0:
            path = real[int(rng.integers(len(real)))]
            return self._hung_negative(self._read(path), f"{PAINTING_KIND}{Path(path).stem}", seed, level)
        if level == "hard":
            # the museum's own negatives: a painting never seen hung among others on its walls
            return self._hung_negative(None, "museum", seed, level)
        if kind == 1:
            canvas = pictures.random_painting(40_000_000 + seed)
            return self._hung_negative(canvas.image, f"{PAINTING_KIND}generated", seed, level)
        camera = self.level_cameras(level)[0] if level == "easy" else self.camera
        assert isinstance(camera, Camera)
        return camera.negative(seed)

    def _hung_negative(self, picture: np.ndarray | None, kind: str, seed: int, level: str | None) -> View:
        """A picture that is not in the guide (None: the museum camera's own) seen as an artwork
        would be, by the role's camera or a report level's."""
        if level == "hard":
            empty = self.level_cameras(level)[1]
            assert empty is not None  # the hard level always has a camera for its negatives
            return empty.negative(seed, picture, kind)
        assert picture is not None
        if level is None:
            view = self._hang(picture, {}, seed, None, None)
        else:
            view = self.level_cameras(level)[0].view(kind, picture, {}, seed)
        return View(view.image, None, kind)

    def check(self, path: str, label: str) -> View:
        artwork, _, detail = label.partition("/")
        image = fit_within(read_image(path), 1280)[0]
        return View(image, artwork, "detail" if detail else "check", detail or None)


def _record(name: str, view: View, image: np.ndarray, scale: float, level: str | None) -> dict:
    h, w = image.shape[:2]
    scaled = {
        d: None if t.box is None else [round(v * scale, 1) for v in t.box] for d, t in view.details.items()
    }
    details = {d: [round(t.visible, 4), round(t.area, 5), scaled[d]] for d, t in view.details.items()}
    boxes = [
        {"category": f"{view.artwork}/{d}", "bbox": box}
        for d, box in scaled.items()
        if box is not None
        and view.details[d].visible >= MIN_VISIBILITY
        and box[2] >= MIN_SIDE_PX
        and box[3] >= MIN_SIDE_PX
    ]
    label = None if view.artwork is None else (f"{view.artwork}/{view.focus}" if view.focus else view.artwork)
    return {
        "file": f"images/{name}.jpg",
        "width": w,
        "height": h,
        "label": label,
        "kind": view.kind,
        "boxes": boxes,
        # a check photo shows its artwork without boxes: a detector is not scored on its boxes
        "boxes_known": view.artwork is None or view.H is not None,
        "details": details,
        "conditions": list(view.conditions),  # what makes a museum view hard (visitors, glass, dim)
        "level": level,  # the benchmark level whose camera drew it (report views), else None
    }


@dataclass(frozen=True)
class _Task:
    artwork: int | None = None  # index in the guide (None: a negative, or a check photo)
    focus: str | None = None  # a detail's close-up
    check: tuple[str, str] | None = None  # a check photo: (path, label)


def _tasks(ref: GuideRef, params: UnseenParams) -> list[_Task]:
    """Every view of a role, in a fixed order: artworks and their details, negatives, check photos."""
    tasks: list[_Task] = []
    for a, art in enumerate(ref.guide.artworks):
        tasks += [_Task(a)] * params.whole_views
        # a pseudo-detail (a detector's outline of the whole artwork) is boxed, never a close-up
        for d in (d for d in art.details if not d.id.startswith("__")):
            tasks += [_Task(a, d.id)] * params.per_image
    tasks += [_Task()] * params.negatives
    return tasks + [_Task(check=c) for c in params.checks]


def unseen_count(ref: GuideRef, params: UnseenParams) -> int:
    """How many views a role has."""
    return len(_tasks(ref, params))


def _in_turn(tasks: list[_Task]) -> list[int]:
    """The tasks' indices taken in turn from every group (an artwork, a detail's close-ups, the
    negatives, the check photos), so a set cut short by a deadline has some of each."""
    groups: dict[tuple, list[int]] = {}
    for i, t in enumerate(tasks):
        groups.setdefault((t.artwork, t.focus, t.check is not None), []).append(i)
    rank = {i: r for members in groups.values() for r, i in enumerate(members)}
    return sorted(range(len(tasks)), key=lambda i: (rank[i], i))


def make_unseen(
    ref: GuideRef,
    settings: Settings,
    params: UnseenParams,
    progress: Progress = no_progress,
    deadline: float | None = None,
) -> tuple[Path, bool]:
    """Make (or reuse) one role's views; (their folder, whether all of them are there). An
    interrupted run resumes: a view counts once its label is written, after its image. With a
    ``deadline`` (:func:`time.monotonic`) no view is started after it once every group has one
    (a later run makes the rest)."""
    out = unseen_dir(ref, params, settings)
    for sub in ("images", "labels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "manifest.json", {"guide": ref.guide.name, **asdict(params)})
    maker = _Maker(ref, params)
    tasks = _tasks(ref, params)
    groups = len({(t.artwork, t.focus, t.check is not None) for t in tasks})
    label = f"{params.role} views"
    done = 0
    for k, i in enumerate(_in_turn(tasks)):
        if deadline is not None and k >= groups and time.monotonic() >= deadline:
            break
        name = f"s{i:06d}"
        done += 1
        if (out / "labels" / f"{name}.json").is_file():
            continue
        task, seed = tasks[i], params.seed + i
        level = None
        if task.check is not None:
            view = maker.check(*task.check)
        else:
            level = REPORT_LEVELS[i % len(REPORT_LEVELS)] if params.role == REPORT else None
            if task.artwork is not None:
                view = maker.artwork_view(task.artwork, task.focus, seed, level)
            else:
                view = maker.negative(i, seed, level)
        image, scale = fit_within(view.image, params.max_side)
        atomic_write_bytes(out / "images" / f"{name}.jpg", encode_jpeg(image, 92))
        atomic_write_json(out / "labels" / f"{name}.json", _record(name, view, image, scale, level))
        if done % 8 == 0:
            progress(
                ProgressEvent(
                    "data",
                    done / len(tasks),
                    f"{label}: {done}/{len(tasks)}",
                    {"done": done, "total": len(tasks)},
                )
            )
    progress(ProgressEvent("data", 1.0, f"{label}: {done}/{len(tasks)}"))
    return out, done == len(tasks)


def view_of(folder: Path, record: dict, details_of: dict[str, set[str]] | None = None) -> View:
    """One view of an unseen set as the benchmark scores it: image, artwork, kind, focus and where
    each detail lands (``details_of``: artwork -> its real details, so pseudo-details such as a
    detector's outline are left out)."""
    artwork, _, focus = (record.get("label") or "").partition("/")
    keep = None if details_of is None or not artwork else details_of.get(artwork, set())
    details = {
        d: DetailTruth(v[0], v[1], None if v[2] is None else (v[2][0], v[2][1], v[2][2], v[2][3]))
        for d, v in (record.get("details") or {}).items()
        if keep is None or d in keep
    }
    image = read_image(Path(folder) / record["file"])
    conditions = tuple(record.get("conditions") or ())
    return View(image, artwork or None, record.get("kind", "whole"), focus or None, None, details, conditions)
