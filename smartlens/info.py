"""What ``python -m smartlens info`` reports: versions, settings, weights, guides and models."""

from __future__ import annotations

import importlib.metadata as md
import platform

from .backbone import resolve_weights
from .config import Settings
from .guide import list_guides
from .vocabulary import BackboneSize, choices

_PACKAGES = (
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "opencv-python-headless",
    "albumentations",
    "streamlit",
    "streamlit-webrtc",
    "streamlit-drawable-canvas",
    "duckdb",
    "av",
    "aiortc",
    "gTTS",
)


def collect_info(s: Settings) -> dict[str, str]:
    """A flat report, one line per item."""
    out = {"smartlens": __import__("smartlens").__version__, "python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            continue
    out.update(
        {
            "data": str(s.data),
            "models": str(s.models),
            "weights setting": str(s.weights or "(not set)"),
            "offline": str(s.offline),
            "threads": str(s.threads),
        }
    )
    for size in choices(BackboneSize):
        w = resolve_weights(size, s, allow_download=False)
        out[f"weights ({size})"] = f"{w.source}: {w.message}" + (
            ""
            if w.pretrained or s.offline
            else " (a download through Keras is tried when a model is built online)"
        )
    out["guides"] = ", ".join(list_guides(s)) or "(none: run 'python -m smartlens demo')"
    models = sorted(p.name for p in s.models.iterdir() if p.is_dir()) if s.models.is_dir() else []
    out["models"] = ", ".join(models) or "(none trained yet)"
    return out
