"""The views a training reads, made (or reused) in one place.

Training, ``smartlens augment --for-training`` and the studio's "training views" job all call
:func:`training_views`, so views made ahead of a training are the ones it reads. Views live in
``data/cache/train-data/<guide>/<key>/``, the key naming everything they depend on (the guide's
pictures and boxes, the parameters, the negative pictures), so a rerun reuses them and an
interrupted run resumes.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..augment.engine import AugmentParams, generate, plan
from ..config import Settings
from ..guide import GuideRef, fingerprint
from ..progress import Progress, ProgressEvent, no_progress, within
from ..vocabulary import Preset
from .negatives import negative_pictures, pictures_key, split_pictures


@dataclass(frozen=True)
class TrainingViews:
    """Where a training's views are, and whether all of them could be made in time."""

    train: Path
    held_out: Path
    complete: bool
    seconds: float
    negative_pictures: int  # real negative pictures used (training and held-out together)
    made: int = 0  # views made by this call (0: all were there already, e.g. made ahead)

    @property
    def out(self) -> Path:
        """The training views' folder (the larger set)."""
        return self.train


def _spec(params: Any, name: str, default: Any) -> Any:
    return getattr(params, name, default)


def view_params(
    ref: GuideRef, settings: Settings, params: Any, max_side: int = 320
) -> tuple[AugmentParams, AugmentParams]:
    """(training, held-out) augmentation parameters for a training's ``params`` (classification's
    ``TrainParams``, detection's ``DetectorParams``: anything with per_image, negatives, seed and
    optionally val_per_image, val_negatives, preset, negative_dirs)."""
    pictures = negative_pictures(ref, _spec(params, "negative_dirs", ()), settings.image_limits)
    train_pics, held_pics = split_pictures(pictures)
    seed = int(params.seed)
    preset = _spec(params, "preset", Preset.MEDIUM)
    train = AugmentParams(
        per_image=int(params.per_image),
        preset=preset,
        negatives=int(params.negatives),
        seed=seed * 2 + 100,
        max_side=max_side,
        negative_pictures=tuple(str(p) for p in train_pics),
    )
    held = replace(
        train,
        per_image=int(_spec(params, "val_per_image", max(2, params.per_image // 10))),
        negatives=int(_spec(params, "val_negatives", max(8, params.negatives // 4))),
        seed=seed * 2 + 101,
        negative_pictures=tuple(str(p) for p in held_pics),
    )
    return train, held


def views_dir(ref: GuideRef, params: AugmentParams, settings: Settings) -> Path:
    """The cache folder of one set of views (its name depends on all they are made of)."""
    key = hashlib.sha256(
        json.dumps(
            [
                fingerprint(ref.guide, ref.root, visual_only=True),
                asdict(params),
                pictures_key(Path(p) for p in params.negative_pictures),
            ],
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()[:12]
    return settings.cache / "train-data" / ref.guide.name / key


def training_views(
    ref: GuideRef,
    settings: Settings,
    params: Any,
    progress: Progress = no_progress,
    deadline: float | None = None,
    max_side: int = 320,
) -> TrainingViews:
    """Make (or reuse) the held-out views, then the training views, of a training with ``params``.

    With ``deadline`` (a :func:`time.monotonic` time) making views stops there, leaving a balanced
    part of them (the held-out set first: it is small, and thresholds need it).
    """
    t0 = time.monotonic()
    train, held = view_params(ref, settings, params, max_side)
    workers = _spec(params, "workers", None)
    sizes = [len(plan(ref, held)), len(plan(ref, train))]
    # under a deadline the held-out set gets its share of the time, so both sets get views
    held_deadline = None if deadline is None else t0 + (deadline - t0) * sizes[0] / max(1, sum(sizes))
    share = sizes[0] / max(1, sum(sizes))
    done, made = [], 0
    for aug, label, lo, hi, until in (
        (held, "held-out views", 0.0, share, held_deadline),
        (train, "training views", share, 1.0, deadline),
    ):
        out = views_dir(ref, aug, settings)
        report = generate(
            ref,
            out,
            aug,
            workers=workers,
            progress=within(_labelled(progress, label), lo, hi, "data"),
            deadline=until,
        )
        done.append(report.complete)
        made += report.made
    return TrainingViews(
        views_dir(ref, train, settings),
        views_dir(ref, held, settings),
        all(done),
        time.monotonic() - t0,
        len(set(train.negative_pictures) | set(held.negative_pictures)),
        made,
    )


def _labelled(progress: Progress, label: str) -> Progress:
    """``progress`` with ``label`` before each message (which set the views are for)."""

    def report(event: ProgressEvent) -> None:
        progress(replace(event, message=f"{label}: {event.message}"))

    return report
