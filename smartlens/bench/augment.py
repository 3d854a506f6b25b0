"""``python -m smartlens bench augment``: augmentation throughput on one core and on all cores."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..augment.engine import AugmentParams, generate
from ..config import Settings
from ..guide.demo import ensure_demo
from ..vocabulary import Preset
from .timing import table


def run(settings: Settings, per_image: int = 20, preset: str = Preset.MEDIUM) -> list[dict]:
    """Make the same views with one worker and with one per core."""
    ref = ensure_demo(settings)
    rows: list[dict[str, Any]] = []
    cores = os.cpu_count() or 1
    for workers in sorted({1, cores}):
        out = Path(tempfile.mkdtemp(prefix="smartlens-bench-aug-"))
        try:
            r = generate(ref, out, AugmentParams(per_image=per_image, preset=preset), workers=workers)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        rows.append(
            {
                "workers": workers,
                "images": r.made,
                "seconds": round(r.seconds, 1),
                "images_per_s": round(r.per_second, 1),
            }
        )
    base = rows[0]["images_per_s"]
    for row in rows:
        row["speed-up"] = round(row["images_per_s"] / base, 2) if base else ""
    return rows


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench augment``: print the table."""
    rows = run(settings, args.per_image)
    print(f"augmentation throughput (demo guide, preset medium, 640 px frames, {os.cpu_count()} cores here):")
    print(table(rows, ["workers", "images", "seconds", "images_per_s", "speed-up"]))
    return 0
