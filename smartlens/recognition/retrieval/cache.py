"""Retrieval indexes on disk: one ``.npz`` per guide and mode under ``data/cache/index/``, named
by a key of everything that shapes it (guide images and boxes, parameters, index version), so a
changed guide or setting never reuses a stale index."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...config import Settings
from ...guide import GuideRef, fingerprint
from ...storage import atomic_write_bytes

#: Bumped whenever the index format or how it is built changes.
INDEX_VERSION = 5

Arrays = dict[str, np.ndarray]


@dataclass
class IndexInfo:
    """What was loaded or built, for the CLI, the benchmark and the studio."""

    mode: str
    path: Path
    built: bool  # True when built now, False when loaded from the cache
    seconds: float
    artworks: int
    entries: int
    nbytes: int
    report: dict[str, Any]


def index_key(ref: GuideRef, mode: str, extra: dict[str, Any]) -> str:
    """A short hash of everything the index depends on."""
    blob = json.dumps(
        {"v": INDEX_VERSION, "fp": fingerprint(ref.guide, ref.root, visual_only=True), "mode": mode, **extra},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def index_path(ref: GuideRef, mode: str, key: str, settings: Settings) -> Path:
    return settings.cache / "index" / ref.guide.name / f"{mode}-{key}.npz"


def save_index(path: Path, arrays: Arrays, meta: dict[str, Any]) -> None:
    """Write the index atomically, then drop older indexes of the same mode."""
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta)), **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(path, buf.getvalue())
    for old in path.parent.glob(f"{path.name.split('-')[0]}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)


def load_index(path: Path) -> tuple[Arrays, dict[str, Any]] | None:
    """(arrays, meta) of a cached index, or None when it is missing or damaged (rebuild then)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files if k != "meta"}
            return arrays, json.loads(str(z["meta"]))
    except (OSError, ValueError, KeyError):
        return None
