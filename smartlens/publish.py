"""Which recogniser the lens uses for a guide: the method and model version a curator published.

``data/published/<guide>.json`` (written atomically) names the method, the retrieval mode or
the model folder, and a revision; the lens started without ``--method`` loads what it names,
and a running lens loads a newly published choice for its next visitor.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .config import Settings
from .errors import UserError
from .methods import method_spec
from .model_store import guide_models_dir, latest_model, read_info
from .storage import atomic_write_json, check_id


@dataclass(frozen=True)
class Published:
    """The lens' recogniser for one guide."""

    guide: str
    method: str
    mode: str | None = None  # retrieval: verified or baseline
    model: str | None = None  # classification, detection: the model folder's name
    published: float = 0.0
    revision: str = ""

    def model_dir(self, settings: Settings) -> Path | None:
        return guide_models_dir(self.guide, settings) / self.model if self.model else None

    @property
    def label(self) -> str:
        return (
            f"{self.method}"
            + (f" ({self.mode})" if self.mode else "")
            + (f" {self.model}" if self.model else "")
        )


def published_path(guide: str, settings: Settings) -> Path:
    return settings.data / "published" / f"{check_id(guide, 'guide name')}.json"


def publish(
    guide: str, settings: Settings, method: str, mode: str | None = None, model: str | None = None
) -> Published:
    """Make ``method`` (and ``model``, default the newest of that method) what the lens uses."""
    spec = method_spec(method)
    method = spec.name
    if spec.training is None:  # nothing trained: a variant, no model folder
        mode = mode or spec.default_mode
        if spec.modes and mode not in spec.modes:
            raise UserError(f"unknown {method} mode {mode!r}: choose one of {', '.join(spec.modes)}")
        model = None
    else:
        mode = None
        if model is None:
            model = latest_model(guide, method, settings).name
        folder = guide_models_dir(guide, settings) / check_id(model, "model name")
        info = read_info(folder)  # a missing or damaged folder is refused here, not in the lens
        if info.get("method", method) != method:
            raise UserError(f"model {model} is a {info.get('method')} model, not {method}")
    entry = Published(guide, method, mode, model, time.time(), os.urandom(4).hex())
    atomic_write_json(published_path(guide, settings), asdict(entry))
    return entry


def read_published(guide: str, settings: Settings) -> Published | None:
    """What is published for ``guide`` (None: nothing yet, or the file is unreadable)."""
    path = published_path(guide, settings)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Published(**{k: raw[k] for k in Published.__dataclass_fields__ if k in raw})
    except (OSError, ValueError, TypeError, KeyError):
        return None


def published_revision(guide: str, settings: Settings) -> str:
    """Changes whenever something is published for ``guide`` ('' when nothing is).

    ``guide`` is what ``--guide`` takes: a guide's name, or its folder (then its name is read).
    """
    if "/" in guide or Path(guide).name == "guide.json":
        from .guide.store import guide_dir, read_guide

        guide = read_guide(guide_dir(guide, settings), settings.image_limits, check=False).guide.name
    entry = read_published(guide, settings)
    return entry.revision if entry else ""


def unpublish(guide: str, settings: Settings) -> None:
    """Back to the default (retrieval)."""
    published_path(guide, settings).unlink(missing_ok=True)
