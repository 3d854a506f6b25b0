"""Training data from a few photos: many augmented views, in parallel, streamed to disk.

Each sample is a virtual-camera view (the artwork on a wall, tilted, placed and scaled in
the frame; or a close-up of one detail), then the preset's albumentations transforms, with
the detail boxes following every geometric change and dropped by a visibility rule when they
leave the frame or become too small.

Output folder::

    images/<sample>.jpg       the picture (written atomically)
    labels/<sample>.json      its class and boxes (written after the image: a sample counts
                              only once its label exists, so an interrupted run leaves no
                              half-sample behind and a rerun resumes where it stopped)
    annotations.coco.json     every finished sample, COCO detection format
    manifest.json             the parameters, so a rerun with others is refused

Samples are numbered and seeded one by one, so the output does not depend on the number of
worker processes or on the order they finish in.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path

import albumentations as A
import cv2
import numpy as np

from ..geometry import Box, float_box
from ..guide import GuideRef, fingerprint
from ..imaging import encode_jpeg, fit_within, read_image
from ..progress import Progress, ProgressEvent, no_progress
from ..storage import atomic_write_bytes, atomic_write_json
from ..synth.camera import LANDSCAPE, PORTRAIT, Camera, CameraParams, View
from ..vocabulary import Preset
from .transforms import geometric, photometric, strength

#: A box is kept when this much of it stays in the frame and it keeps this many pixels a side.
MIN_VISIBILITY = 0.5
MIN_SIDE_PX = 8
#: Below this many seconds to a deadline, samples are made in this process (no workers to start).
SPAWN_WORTH_S = 30.0


@dataclass(frozen=True)
class AugmentParams:
    per_image: int = 20  # views per artwork, and close-ups per detail
    preset: str = Preset.MEDIUM
    blocks: tuple[str, ...] | None = None  # a custom list of transform blocks
    negatives: int = 0  # frames with no artwork (the classifier's reject class)
    seed: int = 0
    max_side: int = 640  # longer side of the saved frames
    detail_share: float = 1.0  # close-ups per detail, relative to per_image
    #: Real pictures with no guide artwork (other paintings, rooms): files read by the one image
    #: reader, shown whole on a wall or as a close-up crop (see smartlens.training.negatives).
    negative_pictures: tuple[str, ...] = ()
    real_negatives: float = 0.5  # share of the negatives made from them, when there are any


@dataclass(frozen=True)
class Task:
    """One sample to make: its number, and what it shows."""

    number: int
    artwork: int | None  # index in the guide; None for a negative
    focus: str | None  # detail id for a close-up

    @property
    def name(self) -> str:
        return f"s{self.number:06d}"


@dataclass
class Sample:
    image: np.ndarray
    label: str | None  # 'artwork' or 'artwork/detail' (a close-up); None for a negative
    boxes: list[tuple[str, Box]] = field(default_factory=list)


@dataclass
class AugmentReport:
    out: Path
    total: int
    made: int  # made in this run
    skipped: int  # already there from an earlier run
    seconds: float
    workers: int

    @property
    def complete(self) -> bool:
        """Every sample is there (a deadline may have ended the run before)."""
        return self.made + self.skipped == self.total

    @property
    def per_second(self) -> float:
        return self.made / self.seconds if self.seconds else 0.0


def plan(ref: GuideRef, params: AugmentParams) -> list[Task]:
    """Every sample of a run, in a fixed order."""
    tasks: list[Task] = []
    close = max(0, round(params.per_image * params.detail_share))
    for a, art in enumerate(ref.guide.artworks):
        tasks += [Task(0, a, None) for _ in range(params.per_image)]
        for d in art.details:
            tasks += [Task(0, a, d.id) for _ in range(close)]
    tasks += [Task(0, None, None) for _ in range(params.negatives)]
    return [Task(i, t.artwork, t.focus) for i, t in enumerate(tasks)]


class SampleMaker:
    """Makes samples for one guide and parameter set (one per worker process)."""

    def __init__(self, ref: GuideRef, params: AugmentParams):
        self.ref, self.params = ref, params
        k = strength(params.preset)
        blocks = list(params.blocks) if params.blocks else None
        self.camera = Camera(CameraParams(max_tilt=min(40.0, 15 + 15 * k)))
        self.pipeline = A.Compose(
            geometric(params.preset, blocks) + list(photometric(params.preset, blocks).transforms),
            bbox_params=A.BboxParams(
                format="coco",
                label_fields=["labels"],
                min_visibility=MIN_VISIBILITY,
                min_width=MIN_SIDE_PX,
                min_height=MIN_SIDE_PX,
                clip=True,
            ),
        )
        self._images: dict[int, np.ndarray] = {}
        self._negatives: dict[int, np.ndarray] = {}

    def _image(self, a: int) -> np.ndarray:
        if a not in self._images:
            self._images[a] = read_image(self.ref.path(self.ref.guide.artworks[a].image))
        return self._images[a]

    def _negative(self, k: int) -> np.ndarray:
        if k not in self._negatives:
            image = read_image(self.params.negative_pictures[k])
            self._negatives[k] = fit_within(image, 1024)[0]  # a camera frame needs no more
        return self._negatives[k]

    def real_negative(self, seed: int) -> np.ndarray | None:
        """A frame of a real negative picture (None when this negative is to be procedural): the
        whole picture seen on a wall by the virtual camera, or a crop filling the frame (a close-up
        of another painting, a part of a room)."""
        pictures = self.params.negative_pictures
        rng = np.random.default_rng(seed + 7)
        if not pictures or rng.uniform() >= self.params.real_negatives:
            return None
        image = self._negative(int(rng.integers(len(pictures))))
        if rng.uniform() < 0.5:
            return self.camera.view("negative", image, {}, seed, degrade=False).image
        fw, fh = LANDSCAPE if rng.uniform() < 0.6 else PORTRAIT
        h, w = image.shape[:2]
        scale = rng.uniform(0.35, 1.0) * min(w / fw, h / fh)
        cw, ch = max(16, int(fw * scale)), max(16, int(fh * scale))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return cv2.resize(image[y : y + ch, x : x + cw], (fw, fh), interpolation=cv2.INTER_AREA)

    def make(self, task: Task) -> Sample:
        seed = self.params.seed * 1_000_003 + task.number
        if task.artwork is None:
            real = self.real_negative(seed)
            view = self.camera.negative(seed, degrade=False) if real is None else View(real, None, "real")
            label, boxes = None, []
        else:
            art = self.ref.guide.artworks[task.artwork]
            view = self.camera.view(
                art.id,
                self._image(task.artwork),
                {d.id: d.box for d in art.details},
                seed,
                focus=task.focus,
                degrade=False,
            )
            label = art.id if task.focus is None else f"{art.id}/{task.focus}"
            boxes = [
                (f"{art.id}/{d}", t.box)
                for d, t in view.details.items()
                if t.box is not None and t.visible >= MIN_VISIBILITY
            ]
        self.pipeline.set_random_seed(seed % 2**31)
        h, w = view.image.shape[:2]
        clipped = [(n, _clip(b, w, h)) for n, b in boxes]
        clipped = [(n, b) for n, b in clipped if b[2] >= MIN_SIDE_PX and b[3] >= MIN_SIDE_PX]
        out = self.pipeline(image=view.image, bboxes=[b for _, b in clipped], labels=[n for n, _ in clipped])
        image, scale = fit_within(out["image"], self.params.max_side)
        kept = [
            (str(n), float_box(np.asarray(b, float) * scale)) for n, b in zip(out["labels"], out["bboxes"])
        ]
        return Sample(image, label, kept)


def _clip(box: Box, w: int, h: int) -> Box:
    x, y, bw, bh = box
    x0, y0 = max(0.0, x), max(0.0, y)
    x1, y1 = min(float(w), x + bw), min(float(h), y + bh)
    return x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0)


# --- worker processes -----------------------------------------------------------------------
_MAKER: SampleMaker | None = None


def _init_worker(ref: GuideRef, params: AugmentParams) -> None:
    global _MAKER
    cv2.setNumThreads(1)  # one process per core already
    _MAKER = SampleMaker(ref, params)


def _write(out: Path, task: Task, sample: Sample) -> None:
    atomic_write_bytes(out / "images" / f"{task.name}.jpg", encode_jpeg(sample.image, 92))
    h, w = sample.image.shape[:2]
    atomic_write_json(
        out / "labels" / f"{task.name}.json",
        {
            "file": f"images/{task.name}.jpg",
            "width": w,
            "height": h,
            "label": sample.label,
            "boxes": [{"category": n, "bbox": [round(v, 1) for v in b]} for n, b in sample.boxes],
        },
    )


def _work(out: str, tasks: list[Task]) -> int:
    assert _MAKER is not None
    for task in tasks:
        _write(Path(out), task, _MAKER.make(task))
    return len(tasks)


def generate(
    ref: GuideRef,
    out: Path,
    params: AugmentParams,
    workers: int | None = None,
    progress: Progress = no_progress,
    force: bool = False,
    deadline: float | None = None,
) -> AugmentReport:
    """Make every sample of ``params`` under ``out`` (resuming an interrupted run).

    With ``deadline`` (a :func:`time.monotonic` time) no new sample is started after it (once one
    of every class is made): the run ends early with part of the samples (``complete`` False),
    taken in turn from every class so that the part is balanced, and a later run with the same
    parameters makes the rest.
    """
    out = Path(out)
    manifest = {
        "guide": ref.guide.name,
        "fingerprint": fingerprint(ref.guide, ref.root, visual_only=True),
        **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(params).items()},
    }
    old = out / "manifest.json"
    if old.is_file() and not force:
        previous = json.loads(old.read_text())
        if previous != manifest:
            raise FileExistsError(
                f"{out} holds a different augmentation run ({previous.get('guide')}, preset "
                f"{previous.get('preset')}); choose another --out or use --force to start over"
            )
    if force and out.exists():
        import shutil

        for sub in ("images", "labels"):
            shutil.rmtree(out / sub, ignore_errors=True)
    for sub in ("images", "labels"):
        (out / sub).mkdir(parents=True, exist_ok=True)
        for part in (out / sub).glob(".*.part"):
            part.unlink(missing_ok=True)  # leftovers of an interrupted write
    atomic_write_json(old, manifest)
    tasks = plan(ref, params)
    todo = _interleaved([t for t in tasks if not (out / "labels" / f"{t.name}.json").is_file()])
    skipped = len(tasks) - len(todo)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    if deadline is not None and deadline - time.monotonic() < SPAWN_WORTH_S:
        workers = 1  # starting worker processes (seconds each) would eat a short deadline

    t0 = time.perf_counter()
    done = 0

    def report(message: str) -> None:
        finished = skipped + done
        progress(
            ProgressEvent(
                "augmenting",
                finished / max(1, len(tasks)),
                f"{finished}/{len(tasks)} {message}",
                {"done": finished, "total": len(tasks)},
            )
        )

    report("starting")

    # under a deadline, one sample of every class is made whatever the time: a part must be usable
    at_least = len({(t.artwork, t.focus) for t in todo})

    def late() -> bool:
        return deadline is not None and done >= at_least and time.monotonic() >= deadline

    if workers == 1:
        maker = SampleMaker(ref, params)
        for task in todo:
            if late():
                break
            _write(out, task, maker.make(task))
            done += 1
            report("augmenting")
    else:
        # chunks already handed to a worker cannot be cancelled: keep them short under a deadline
        chunk = max(1, min(16 if deadline is None else 4, len(todo) // (workers * 4) or 1))
        chunks = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
        ctx = multiprocessing.get_context("spawn")  # safe even when TensorFlow is loaded in this process
        with ProcessPoolExecutor(workers, ctx, initializer=_init_worker, initargs=(ref, params)) as pool:
            pending = {pool.submit(_work, str(out), c) for c in chunks}
            try:
                while pending:
                    finished, pending = wait(
                        pending,
                        timeout=None
                        if deadline is None or done < at_least
                        else max(0.0, deadline - time.monotonic()),
                        return_when=FIRST_COMPLETED,
                    )
                    for f in finished:
                        done += f.result()
                    report("augmenting")
                    if late() and pending:
                        for f in pending:
                            f.cancel()  # chunks not started; running ones finish (a few samples)
                        for f in wait(pending).done:
                            if not f.cancelled():
                                done += f.result()
                        break
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
    seconds = time.perf_counter() - t0
    write_coco(ref, out)
    report("done" if skipped + done == len(tasks) else "stopped by the time budget")
    return AugmentReport(out, len(tasks), done, skipped, seconds, workers)


def _interleaved(tasks: list[Task]) -> list[Task]:
    """``tasks`` taken in turn from each class (artwork, detail close-up, negative), so that a
    run cut short by its deadline still has some of every class."""
    groups: dict[tuple, list[Task]] = {}
    for t in tasks:
        groups.setdefault((t.artwork, t.focus), []).append(t)
    rank = {t.number: i for g in groups.values() for i, t in enumerate(g)}
    return sorted(tasks, key=lambda t: (rank[t.number], t.number))


def read_labels(out: Path) -> list[dict]:
    """Every finished sample's label record, in sample order."""
    return [json.loads(p.read_text()) for p in sorted(Path(out, "labels").glob("s*.json"))]


def write_coco(ref: GuideRef, out: Path) -> Path:
    """Assemble annotations.coco.json from the finished samples."""
    cats = [f"{a.id}/{d.id}" for a in ref.guide.artworks for d in a.details]
    cat_id = {c: i + 1 for i, c in enumerate(cats)}
    images: list[dict] = []
    annotations: list[dict] = []
    for i, rec in enumerate(read_labels(out), start=1):
        images.append(
            {
                "id": i,
                "file_name": rec["file"],
                "width": rec["width"],
                "height": rec["height"],
                "smartlens": {"label": rec["label"]},
            }
        )
        for b in rec["boxes"]:
            if b["category"] in cat_id:
                x, y, w, h = b["bbox"]
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": i,
                        "category_id": cat_id[b["category"]],
                        "bbox": b["bbox"],
                        "area": round(w * h, 1),
                        "iscrowd": 0,
                    }
                )
    return atomic_write_json(
        out / "annotations.coco.json",
        {
            "info": {"description": f"SmartLens augmented views of guide {ref.guide.name}"},
            "images": images,
            "annotations": annotations,
            "categories": [{"id": cat_id[c], "name": c, "supercategory": c.split("/")[0]} for c in cats],
        },
    )


def preview(ref: GuideRef, params: AugmentParams, n: int = 8, draw: bool = True) -> list[np.ndarray]:
    """A few samples (boxes drawn on them), for the studio to show before a long run."""
    maker = SampleMaker(ref, params)
    tasks = plan(ref, params)
    step = max(1, len(tasks) // n)
    out = []
    for task in tasks[::step][:n]:
        s = maker.make(task)
        img = s.image.copy()
        if draw:
            for name, (x, y, w, h) in s.boxes:
                cv2.rectangle(img, (int(x), int(y)), (int(x + w), int(y + h)), (0, 230, 255), 2)
                cv2.putText(
                    img,
                    name.split("/")[-1],
                    (int(x) + 3, int(y) + 16),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    0.5,
                    (0, 230, 255),
                    1,
                    cv2.LINE_AA,
                )
        out.append(img)
    return out
