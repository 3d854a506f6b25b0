"""Test material for the recognition benchmark: camera views, negatives, and grown guides.

Two levels of difficulty: **easy** (the virtual camera of :mod:`smartlens.synth.camera`: one
painting filling much of the frame over a plain wall) and **hard** (the museum camera of
:mod:`smartlens.synth.museum`: small in the frame, among other paintings, on ornate walls and in
gilded frames, steep angles, visitors, glass, dim light). Each level has two sets: **test**, the
views every reported figure comes from, and **dev**, the views choices are tuned on: other seeds,
and other paintings (the shared paintings mirrored left to right, which no local feature of the
originals matches), so nothing reported was ever used for a choice.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from ..config import Settings
from ..errors import UserError
from ..guide import GUIDE_FILE, Artwork, Detail, Guide, GuideRef, load_guide, save_guide
from ..guide.formats.paintings import import_paintings
from ..imaging import read_image
from ..progress import Progress, ProgressEvent, no_progress
from ..storage import atomic_write_bytes
from ..synth import pictures
from ..synth.camera import Camera, CameraParams, View
from ..synth.museum import MuseumCamera, museum_hanging
from ..training.negatives import CHECK_DIR, negatives_dir

#: Seeds of benchmark views: far from calibration's, so no method is tested on what it tuned on.
BENCH_SEED = 1_000_000
NEGATIVE_SEED = 2_000_000
#: Kind of a negative view showing a held-out real painting (followed by its id).
HELD_OUT_KIND = "painting:"
#: The benchmark's levels of difficulty and its sets (see the module docstring).
LEVELS = ("easy", "hard")
SETS = ("test", "dev")
#: (views, negatives) seeds of each level and set, far from each other and from calibration's.
SEEDS = {
    ("easy", "test"): (BENCH_SEED, NEGATIVE_SEED),
    ("hard", "test"): (3_000_000, 4_000_000),
    ("easy", "dev"): (5_000_000, 5_500_000),
    ("hard", "dev"): (6_000_000, 6_500_000),
}
#: Offset of held-out paintings' seeds from a set's negative seed.
HELD_OUT_SEEDS = 50_000


def paintings_dir(settings: Settings) -> Path:
    """The shared paintings beside the checkout (``../shared/data/paintings``)."""
    return settings.home.parent / "shared" / "data" / "paintings"


def bench_guide(src: Path, settings: Settings, bench_set: str = "test") -> GuideRef:
    """The paintings imported as the benchmark's guide (under data/bench/); for the dev set,
    every painting mirrored left to right (its details' boxes too): the same kind of pictures,
    none of the test set's."""
    if not (Path(src) / "artworks.json").is_file():
        raise FileNotFoundError(f"{src}: no artworks.json (pass --paintings DIR)")
    name = "paintings" if bench_set == "test" else f"paintings-{bench_set}"
    imp = import_paintings(Path(src), name)
    dest = settings.data / "bench" / "guides" / name
    if bench_set == "test":
        return save_guide(imp.guide, dest, files=imp.files, replace=True)
    with tempfile.TemporaryDirectory(prefix="smartlens-mirror-") as tmp:
        files = dict(imp.files)
        for art in imp.guide.artworks:
            image = np.ascontiguousarray(read_image(imp.files[art.image])[:, ::-1])
            files[art.image] = Path(tmp) / Path(art.image).name
            cv2.imwrite(str(files[art.image]), image)
            w = image.shape[1]
            for d in art.details:
                x, y, bw, bh = d.box
                d.box = (w - x - bw, y, bw, bh)
        return save_guide(imp.guide, dest, files=files, replace=True)


@dataclass(frozen=True)
class GuideSplit:
    """The benchmark's guide made of part of the paintings, and what the others are for.

    Of the paintings (in ``artworks.json`` order) the first ``guide`` form the guide; the next one
    is copied into the guide's ``negatives/`` folder (a curator's negative picture: training
    trains and calibrates on it); the rest are held out: never trained or calibrated on, only
    shown to the recognisers as negatives (whole views and close-ups of their details). The first
    held-out one is also the curator's check negative (``negatives/check/``): only a model's own
    report views show it (other views than the benchmark's), as they would show a photo of another
    work that a curator keeps for checking.
    """

    ref: GuideRef
    training_negatives: list[str]
    held_out: list[str]
    source: GuideRef  # all the paintings (for rendering the held-out ones)
    check_negatives: list[str]


def split_guide(
    src: Path,
    settings: Settings,
    guide: int = 5,
    training_negatives: int = 1,
    bench_set: str = "test",
    check_negatives: int = 1,
) -> GuideSplit:
    """The :class:`GuideSplit` of the paintings in ``src`` (saved under data/bench/guides/)."""
    full = bench_guide(src, settings, bench_set)
    arts = full.guide.artworks
    if not 0 < guide < len(arts) - training_negatives:
        raise UserError(
            f"--guide-split {guide}: needs 1..{len(arts) - training_negatives - 1} of the {len(arts)} "
            "paintings in the guide (the others are negatives)"
        )
    name = f"{full.guide.name}-split{guide}"
    dest = settings.data / "bench" / "guides" / name
    negs = arts[guide : guide + training_negatives]
    held = arts[guide + training_negatives :]
    checks = held[:check_negatives]

    def pictures(ref: GuideRef) -> GuideSplit:
        for folder, chosen in ((negatives_dir(ref), negs), (negatives_dir(ref) / CHECK_DIR, checks)):
            for a in chosen:
                src_file = full.path(a.image)
                if not (folder / src_file.name).is_file():
                    atomic_write_bytes(folder / src_file.name, src_file.read_bytes())
        return GuideSplit(ref, [a.id for a in negs], [a.id for a in held], full, [a.id for a in checks])

    if (dest / GUIDE_FILE).is_file():  # made before: kept (models trained on it stay current)
        ref = load_guide(dest, settings, check=False)
        if [a.id for a in ref.guide.artworks] == [a.id for a in arts[:guide]]:
            return pictures(ref)
    part = Guide(
        name=name,
        languages=list(full.guide.languages),
        default_language=full.guide.default_language,
        artworks=list(arts[:guide]),
    )
    ref = save_guide(
        part,
        dest,
        files={a.image: full.path(a.image) for a in part.artworks},
        replace=True,
    )
    return pictures(ref)


class ViewCamera(Protocol):
    """What draws a benchmark view: the easy :class:`Camera` or the hard :class:`MuseumCamera`."""

    def view(
        self, artwork_id: str, image: np.ndarray, boxes: dict[str, tuple], seed: int, focus: str | None = None
    ) -> View: ...


@dataclass
class LevelViews:
    """One level's test material: views of the guide's artworks and negatives."""

    level: str
    views: list[View]
    negatives: list[View]


def _images(ref: GuideRef, ids: list[str] | None = None) -> dict[str, np.ndarray]:
    return {a.id: read_image(ref.path(a.image)) for a in ref.guide.artworks if ids is None or a.id in ids}


def museum_camera(ref: GuideRef, split: GuideSplit | None = None, with_guide: bool = True) -> MuseumCamera:
    """The hard level's camera for a guide (:func:`~smartlens.synth.museum.museum_hanging`), a
    split's other paintings hung beside its own."""
    others = list(_images(split.source, split.held_out + split.training_negatives).values()) if split else []
    return MuseumCamera(museum_hanging(_images(ref), others, with_guide))


def level_views(
    level: str,
    ref: GuideRef,
    whole: int,
    per_detail: int,
    negatives: int,
    bench_set: str = "test",
    split: GuideSplit | None = None,
) -> LevelViews:
    """The views and negatives of one level and set (with a split: its held-out paintings' views
    as negatives too)."""
    if level not in LEVELS or bench_set not in SETS:
        raise UserError(f"unknown level {level!r} or set {bench_set!r}: levels {LEVELS}, sets {SETS}")
    seed, neg_seed = SEEDS[(level, bench_set)]
    if level == "easy":
        camera: ViewCamera = Camera(CameraParams())
        negs = negative_views(negatives, neg_seed)
    else:
        camera = museum_camera(ref, split)
        empty = museum_camera(ref, split, with_guide=False)
        negs = [empty.negative(neg_seed + i) for i in range(negatives)]
    if split:
        held_camera = camera if level == "easy" else museum_camera(ref, split, with_guide=False)
        negs += held_out_views(split, whole, per_detail, neg_seed + HELD_OUT_SEEDS, held_camera)
    return LevelViews(level, artwork_views(ref, whole, per_detail, seed, camera=camera), negs)


def held_out_views(
    split: GuideSplit,
    whole: int,
    per_detail: int,
    seed: int = NEGATIVE_SEED + HELD_OUT_SEEDS,
    camera: ViewCamera | None = None,
) -> list[View]:
    """Negatives of the held-out paintings: camera views of each whole, and close-ups of its details
    (kind ``painting:<id>``, no artwork to find)."""
    full = split.source
    chosen = [a for a in full.guide.artworks if a.id in split.held_out]
    sub = GuideRef(
        Guide(full.guide.name, full.guide.languages, full.guide.default_language, artworks=chosen), full.root
    )
    return [
        View(v.image, None, f"{HELD_OUT_KIND}{v.artwork}", conditions=v.conditions)
        for v in artwork_views(sub, whole, per_detail, seed, camera=camera)
    ]


def artwork_views(
    ref: GuideRef,
    whole: int,
    per_detail: int,
    seed: int = BENCH_SEED,
    params: CameraParams | None = None,
    camera: ViewCamera | None = None,
) -> list[View]:
    """``whole`` views of each artwork plus ``per_detail`` close-ups of each detail (by the easy
    camera with ``params``, or by ``camera``)."""
    cam: ViewCamera = camera or Camera(params or CameraParams())
    views = []
    for a, art in enumerate(ref.guide.artworks):
        image = read_image(ref.path(art.image))
        boxes = {d.id: d.box for d in art.details}
        for k in range(whole):
            views.append(cam.view(art.id, image, boxes, seed + 1000 * a + k))
        for j, d in enumerate(art.details):
            for k in range(per_detail):
                views.append(cam.view(art.id, image, boxes, seed + 1000 * a + 100 * (j + 1) + k, focus=d.id))
    return views


def negative_views(n: int, seed: int = NEGATIVE_SEED) -> list[View]:
    camera = Camera(CameraParams())
    return [camera.negative(seed + i) for i in range(n)]


def _variant(image: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    """A hard look-alike: mirrored, cropped or recoloured."""
    if kind == "mirrored":
        return np.ascontiguousarray(image[:, ::-1])
    if kind == "cropped":
        h, w = image.shape[:2]
        f = rng.uniform(0.6, 0.85)
        y, x = int(rng.uniform(0, h * (1 - f))), int(rng.uniform(0, w * (1 - f)))
        return np.ascontiguousarray(image[y : y + int(h * f), x : x + int(w * f)])
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(30, 150))) % 180
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def grown_guide(base: GuideRef, size: int, settings: Settings, progress: Progress = no_progress) -> GuideRef:
    """``base`` plus distractor artworks up to ``size``: mirrored copies of the base paintings,
    and generated pictures with mirrored, cropped and recoloured variants of them.

    Cached under data/bench/guides/ (the distractors are deterministic).
    """
    dest = settings.data / "bench" / "guides" / f"{base.guide.name}-{size}"
    if (dest / GUIDE_FILE).is_file():
        ref = load_guide(dest, settings, check=False)
        if len(ref.guide.artworks) == size and all(
            a.id == b.id for a, b in zip(base.guide.artworks, ref.guide.artworks)
        ):
            return ref
    guide = Guide(
        name=f"{base.guide.name}-{size}",
        languages=list(base.guide.languages),
        default_language=base.guide.default_language,
        artworks=list(base.guide.artworks),
    )
    files = {a.image: base.path(a.image) for a in base.guide.artworks}
    rng = np.random.default_rng(size)
    with tempfile.TemporaryDirectory(prefix="smartlens-grow-") as tmp:

        def add(art_id: str, image: np.ndarray, boxes: dict) -> None:
            rel = f"images/{art_id}.jpg"
            files[rel] = Path(tmp) / f"{art_id}.jpg"
            cv2.imwrite(str(files[rel]), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
            h, w = image.shape[:2]
            art = Artwork(art_id, rel, w, h, title={guide.default_language: art_id.replace("-", " ")})
            for name, (x, y, bw, bh) in list(boxes.items())[:3]:
                x, y = max(0, x), max(0, y)
                bw, bh = min(bw, w - x), min(bh, h - y)
                if bw > 8 and bh > 8:
                    art.details.append(Detail(name, (int(x), int(y), int(bw), int(bh))))
            guide.artworks.append(art)

        for art in base.guide.artworks:
            if len(guide.artworks) >= size:
                break
            image = read_image(base.path(art.image))
            w = image.shape[1]
            add(
                f"{art.id}-mirrored",
                _variant(image, "mirrored", rng),
                {d.id: (w - d.box[0] - d.box[2], *d.box[1:]) for d in art.details},
            )
        k = 0
        while len(guide.artworks) < size:
            progress(ProgressEvent("distractors", len(guide.artworks) / size, "painting distractors"))
            canvas = pictures.random_painting(30_000_000 + size * 10_000 + k)
            add(f"distractor-{k}", canvas.image, canvas.motifs)
            for kind in ("mirrored", "cropped", "recoloured"):
                if len(guide.artworks) < size and rng.uniform() < 0.5:
                    add(
                        f"distractor-{k}-{kind}",
                        _variant(canvas.image, kind, rng),
                        {} if kind != "recoloured" else canvas.motifs,
                    )
            k += 1
        return save_guide(guide, dest, files=files, replace=True)


def describe(views: list[View]) -> dict:
    kinds: dict[str, int] = {}
    for v in views:
        kinds[v.kind] = kinds.get(v.kind, 0) + 1
    return kinds


def save_samples(views: list[View], out: Path, n: int = 12) -> Path:
    """A contact sheet of some views, to see what the benchmark shows the recognisers."""
    step = max(1, len(views) // n)
    tiles = []
    for v in views[::step][:n]:
        tile = np.zeros((320, 320, 3), np.uint8)
        im = cv2.resize(v.image, (v.image.shape[1] // 2, v.image.shape[0] // 2))
        tile[: im.shape[0], : im.shape[1]] = im[:320, :320]
        tiles.append(tile)
    while len(tiles) % 4:
        tiles.append(np.zeros((320, 320, 3), np.uint8))
    sheet = np.vstack([np.hstack(tiles[i : i + 4]) for i in range(0, len(tiles), 4)])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), sheet)
    return out
