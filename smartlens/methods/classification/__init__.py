"""Classification: a MobileNetV3 fine-tuned on the guide's artworks and details (plus a reject
class); each class counts only above its own calibrated threshold.

- :mod:`.params`: its training parameters (the one source of their defaults);
- :mod:`.train`: views, training, calibration, the model folder;
- :mod:`.recognizer`: a trained model behind the common interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...config import Settings
from ...guide import GuideRef
from ...vocabulary import Method
from ..spec import LoadOptions, MethodSpec, Recognizer, Training
from .params import ClassificationParams


def _load(ref: GuideRef, settings: Settings, options: LoadOptions) -> Recognizer:
    from .recognizer import ClassificationRecognizer

    return ClassificationRecognizer.load(ref, settings, options.model)


def _open(
    model_dir: Path, settings: Settings, ref: GuideRef | None = None, use_gate: bool = True
) -> Recognizer:
    from .recognizer import ClassificationRecognizer

    return ClassificationRecognizer(model_dir, settings, ref, use_gate=use_gate)


def _views(*args: Any, **kwargs: Any) -> Any:
    """:func:`.train.make_views`, imported when first needed (it brings in TensorFlow)."""
    from .train import make_views

    return make_views(*args, **kwargs)


def _train(
    ref: GuideRef,
    settings: Settings,
    params: ClassificationParams,
    progress: Any,
    stop: Any = None,
    started: float | None = None,
) -> Any:
    from .train import train_classifier

    return train_classifier(ref, settings, params, progress, stop, started)


def _figures(m: dict) -> str:
    from ...training.report import older_figures, report_line

    return report_line(m["report"]) if m.get("report") else older_figures(m, "top1", "top-1")


SPEC = MethodSpec(
    name=Method.CLASSIFICATION,
    title="Classification",
    experience="the artwork or one detail named, no boxes; each class counts above its own threshold",
    load=_load,
    training=Training(ClassificationParams, _views, _train, _open, _figures),
)

__all__ = ["SPEC", "ClassificationParams"]
