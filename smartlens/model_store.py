"""Versioned model folders under ``models/<guide>/<method>-<timestamp>/``.

Each folder is complete on its own: weights, class map, thresholds, metrics (with the training
history, which the studio draws as a chart) and ``info.json`` naming the guide (and its
fingerprint) it was trained on. Folders are written under a temporary name and renamed when
complete, so a crash never leaves a half-model that looks finished.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .config import Settings
from .errors import UserError
from .storage import check_id

if TYPE_CHECKING:
    from .guide import GuideRef

log = logging.getLogger("smartlens.models")

INFO = "info.json"


def guide_models_dir(guide_name: str, settings: Settings) -> Path:
    """The folder holding a guide's model versions."""
    return settings.models / check_id(guide_name, "guide name")


def new_model_dir(guide_name: str, method: str, settings: Settings) -> tuple[Path, Path]:
    """(staging folder to write into, final folder name) for a new model version."""
    root = guide_models_dir(guide_name, settings)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    final = root / f"{method}-{stamp}"
    n = 1
    while final.exists():
        n += 1
        final = root / f"{method}-{stamp}-{n}"
    staging = root / f".{final.name}.partial"
    staging.mkdir(parents=True, exist_ok=True)
    return staging, final


def list_models(guide_name: str, settings: Settings, method: str | None = None) -> list[Path]:
    """Complete model folders of a guide, oldest first."""
    root = guide_models_dir(guide_name, settings)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / INFO).is_file()]
    if method:
        found = [p for p in found if p.name.startswith(method + "-")]

    def created(p: Path) -> tuple[float, str]:
        try:
            value = read_info(p).get("created", 0)
        except UserError:
            value = 0  # a damaged folder sorts first; loading it says what is wrong
        return (value if isinstance(value, (int, float)) else 0), p.name

    return sorted(found, key=created)


def same_pretraining(pretrained: bool) -> Callable[[dict[str, Any]], bool]:
    """For :func:`latest_model`'s ``prefer``: models trained from pretrained weights, or not, as
    the weights now configured are (a model needing weights that are gone is not preferred)."""

    def prefer(info: dict[str, Any]) -> bool:
        used = info.get("weights")
        return isinstance(used, dict) and bool(used.get("pretrained")) == pretrained

    return prefer


def latest_model(
    guide_name: str, method: str, settings: Settings, prefer: Callable[[dict[str, Any]], bool] | None = None
) -> Path:
    """The newest complete model; with ``prefer``, the newest whose info satisfies it if any."""
    models = list_models(guide_name, settings, method)
    preferred = [m for m in models if prefer and prefer(read_info(m))]
    if preferred:
        return preferred[-1]
    if not models:
        raise FileNotFoundError(
            f"no trained {method} model for guide '{guide_name}': train one with "
            f"'python -m smartlens train --guide {guide_name} --method {method}'"
        )
    return models[-1]


def read_info(model_dir: Path) -> dict[str, Any]:
    """A model folder's ``info.json``."""
    path = Path(model_dir) / INFO
    if not path.is_file():
        raise FileNotFoundError(f"{model_dir} is not a SmartLens model folder (no {INFO})")
    return read_model_json(Path(model_dir), INFO, dict)


def read_model_json(model_dir: Path, name: str, kind: type) -> Any:
    """A JSON file of a model folder; a damaged one is a :class:`UserError` naming the file."""
    path = Path(model_dir) / name
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: missing from the model folder; remove {model_dir} or train again") from None
    except (OSError, ValueError, RecursionError) as exc:
        raise UserError(f"{path}: damaged ({exc}); remove {model_dir} or train again") from None
    if not isinstance(value, kind):
        raise UserError(
            f"{path}: damaged (expected a JSON {kind.__name__}); remove {model_dir} or train again"
        )
    return value


@dataclass
class TrainedModel:
    """What every learned recogniser reads from its model folder before loading its weights."""

    dir: Path
    info: dict[str, Any]
    classes: list[str]
    #: Per class, in the order of ``classes``: a class counts only above its own threshold.
    thresholds: np.ndarray
    #: The artworks of the guide as it is now (None without a guide): classes of artworks no
    #: longer in the guide are never reported.
    known: set[str] | None
    #: Trained on an older version of the guide (pictures or boxes changed since).
    stale: bool

    def in_guide(self, name: str) -> bool:
        """Whether class ``name`` (an artwork, or ``artwork/detail``) is of an artwork still in the guide."""
        return self.known is None or name.split("/")[0] in self.known

    @property
    def input_size(self) -> int:
        """The side of the square input the model was trained at (from info.json)."""
        try:
            return int(self.info["input_size"])
        except (KeyError, TypeError, ValueError) as exc:
            raise damaged_model(self.dir, exc, "info.json") from None


def damaged_model(
    model_dir: Path, exc: BaseException, files: str = "thresholds.json or info.json"
) -> UserError:
    """The message for a model folder whose files do not hold what they should."""
    return UserError(
        f"{model_dir}: damaged model folder ({exc!r} in {files}); remove this folder or train again"
    )


def open_trained_model(model_dir: Path, ref: GuideRef | None) -> TrainedModel:
    """Read a model folder's info, classes and thresholds, and check it against the guide."""
    from .guide import fingerprint

    model_dir = Path(model_dir)
    info = read_info(model_dir)
    classes: list[str] = read_model_json(model_dir, "classes.json", list)
    thresholds = read_model_json(model_dir, "thresholds.json", dict)
    try:
        values = np.array([float(thresholds[c]) for c in classes], np.float32)
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged_model(model_dir, exc) from None
    stale = ref is not None and info.get("guide_fingerprint") != fingerprint(
        ref.guide, ref.root, visual_only=True
    )
    if stale and ref is not None:
        log.warning(
            "model %s was trained on an older version of guide '%s': retrain to include changes",
            model_dir.name,
            ref.guide.name,
        )
    known = None if ref is None else {a.id for a in ref.guide.artworks}
    return TrainedModel(model_dir, info, classes, values, known, stale)
