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

import numpy as np

from ..augment.engine import AugmentParams, generate, plan
from ..config import Settings
from ..guide import GuideRef, fingerprint
from ..progress import Progress, ProgressEvent, no_progress, within
from ..vocabulary import Preset
from .check_photos import REPORT, VALIDATION
from .negatives import negative_roles, pictures_key
from .unseen import UnseenParams, make_unseen, unseen_count, unseen_params


@dataclass(frozen=True)
class TrainingViews:
    """Where a training's three sets of views are, and whether all of them could be made in time.

    ``train``: the engine's views the network learns from; ``validation``: views unlike them that
    every choice is made on; ``report``: views unlike them that only the figures are measured on
    (:mod:`.unseen`)."""

    train: Path
    validation: Path
    report: Path
    complete: bool
    seconds: float
    negative_pictures: int  # real negative pictures used (all roles together)
    made: int = 0  # training views made by this call (0: all were there already, e.g. made ahead)
    check_photos: int = 0  # the curator's check photos in the validation and report sets

    @property
    def out(self) -> Path:
        """The training views' folder (the larger set)."""
        return self.train


def _spec(params: Any, name: str, default: Any) -> Any:
    return getattr(params, name, default)


def view_params(
    ref: GuideRef, settings: Settings, params: Any, max_side: int = 320
) -> tuple[AugmentParams, UnseenParams, UnseenParams]:
    """(training, validation, report) view parameters for a training's ``params`` (anything with
    per_image, negatives, seed and optionally val_per_image, val_negatives, preset,
    negative_dirs). The real negative pictures are dealt between the three roles."""
    train_pics, val_pics, report_pics = negative_roles(
        ref, _spec(params, "negative_dirs", ()), settings.image_limits
    )
    seed = int(params.seed)
    train = AugmentParams(
        per_image=int(params.per_image),
        preset=_spec(params, "preset", Preset.MEDIUM),
        negatives=int(params.negatives),
        seed=seed * 2 + 100,
        max_side=max_side,
        negative_pictures=tuple(str(p) for p in train_pics),
    )
    per_image = int(_spec(params, "val_per_image", max(2, params.per_image // 10)))
    negatives = int(_spec(params, "val_negatives", max(8, params.negatives // 4)))
    # unseen views keep more pixels: the camera's frames are scored as the lens sees them
    side = max(480, max_side)
    validation, report = (
        unseen_params(role, per_image, negatives, seed, side, pics, ref, settings)
        for role, pics in ((VALIDATION, val_pics), (REPORT, report_pics))
    )
    return train, validation, report


def views_dir(ref: GuideRef, params: AugmentParams, settings: Settings) -> Path:
    """The cache folder of one set of training views (its name depends on all they are made of)."""
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
    report_only: bool = False,
) -> TrainingViews:
    """Make (or reuse) the validation and report views, then the training views, of a training
    with ``params`` (``report_only``: the report views alone, as the guide's pictures say now;
    the other two folders are then left empty).

    With ``deadline`` (a :func:`time.monotonic` time) each set gets its share of the time (by how
    many views it has) and stops there, leaving a balanced part of it (a later run with the same
    options makes the rest).
    """
    t0 = time.monotonic()
    train, validation, report = view_params(ref, settings, params, max_side)
    if report_only:
        folder, whole = make_unseen(ref, settings, report, progress, deadline)
        return TrainingViews(
            Path(),
            Path(),
            folder,
            whole,
            time.monotonic() - t0,
            len(report.negative_pictures),
            0,
            len(report.checks),
        )
    sizes = [unseen_count(ref, validation), unseen_count(ref, report), len(plan(ref, train))]
    # the share of the progress bar each set takes, from how long a view takes to make
    weights = [sizes[0] * 1.5, sizes[1] * 1.5, float(sizes[2])]
    edges = np.concatenate([[0.0], np.cumsum(weights) / max(1.0, sum(weights))])
    # under a deadline each set gets its share of the time, so every set gets views
    ends = [None if deadline is None else t0 + (deadline - t0) * float(e) for e in edges[1:]]
    folders, complete = [], []
    for k, unseen in enumerate((validation, report)):
        folder, whole = make_unseen(
            ref, settings, unseen, within(progress, edges[k], edges[k + 1], "data"), ends[k]
        )
        folders.append(folder)
        complete.append(whole)
    out = views_dir(ref, train, settings)
    made = generate(
        ref,
        out,
        train,
        workers=_spec(params, "workers", None),
        progress=within(_labelled(progress, "training views"), edges[2], 1.0, "data"),
        deadline=deadline,
    )
    return TrainingViews(
        out,
        folders[0],
        folders[1],
        made.complete and all(complete),
        time.monotonic() - t0,
        len(set(train.negative_pictures) | set(validation.negative_pictures) | set(report.negative_pictures)),
        made.made,
        len(validation.checks) + len(report.checks),
    )


def count_views(folder: Path) -> int:
    """How many finished views a views folder holds."""
    return sum(1 for _ in (Path(folder) / "labels").glob("s*.json"))


def _labelled(progress: Progress, label: str) -> Progress:
    """``progress`` with ``label`` before each message (which set the views are for)."""

    def report(event: ProgressEvent) -> None:
        progress(replace(event, message=f"{label}: {event.message}"))

    return report
