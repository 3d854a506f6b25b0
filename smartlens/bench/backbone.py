"""Single-frame MobileNetV3 inference: ``model.predict`` against the compiled call (and TFLite)."""

from __future__ import annotations

import argparse

import numpy as np

from ..backbone import INPUT_SIZE, KerasEmbedder, TFLiteEmbedder, resolve_weights
from ..config import Settings
from ..vocabulary import BackboneSize, choices
from .timing import summary, table, time_ms


def run(
    settings: Settings, repeat: int = 30, sizes: tuple[str, ...] = tuple(choices(BackboneSize))
) -> list[dict]:
    """Time one 224x224 frame through each path; returns one row per (model, path)."""
    frame = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    rows = []
    for size in sizes:
        emb = KerasEmbedder(size, resolve_weights(size, settings, allow_download=False))
        batch = np.random.default_rng(1).uniform(0, 255, (1, INPUT_SIZE, INPUT_SIZE, 3)).astype("float32")
        paths = {
            "model.predict": lambda: emb.model.predict(batch, verbose=0),
            "eager model(x)": lambda: emb.model(batch, training=False),
            "compiled tf.function": lambda: emb._call(batch),
            "embed(frame) (resize + compiled)": lambda: emb.embed([frame]),
        }
        for name, fn in paths.items():
            rows.append({"model": f"keras mobilenet_v3_{size}", "path": name, **summary(time_ms(fn, repeat))})
    info = resolve_weights(BackboneSize.SMALL, settings, allow_download=False)
    if info.is_tflite:
        tfl = TFLiteEmbedder(info, settings.threads)
        timed = summary(time_ms(lambda: tfl.embed([frame]), repeat))
        rows.append({"model": tfl.name, "path": "embed(frame) (resize + TFLite)", **timed})
    return rows


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench backbone``: print the table."""
    rows = run(settings, args.repeat)
    print(f"single-frame inference, {settings.threads} threads ({args.repeat} calls each):")
    print(table(rows, ["model", "path", "median_ms", "p95_ms"]))
    return 0
