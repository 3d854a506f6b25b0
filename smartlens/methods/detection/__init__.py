"""Detection: an SSD-style detector on MobileNetV3, trained on the guide's detail boxes and every
artwork's outline; boxes over the live video, a threshold per class.

- :mod:`.ssd`: the detector in separate pieces (anchors, encoding, model, loss, NMS, metrics);
- :mod:`.params`: its training parameters (the one source of their defaults);
- :mod:`.train`: views with outlines, training, held-out AP, the model folder;
- :mod:`.recognizer`: a trained model behind the common interface.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...config import Settings
from ...guide import GuideRef
from ...vocabulary import Method
from ..spec import LoadOptions, MethodSpec, Recognizer, Training
from .params import DetectionParams


def _load(ref: GuideRef, settings: Settings, options: LoadOptions) -> Recognizer:
    from .recognizer import DetectionRecognizer

    return DetectionRecognizer.load(ref, settings, options.model)


def _open(
    model_dir: Path, settings: Settings, ref: GuideRef | None = None, use_gate: bool = True
) -> Recognizer:
    from .recognizer import DetectionRecognizer

    return DetectionRecognizer(model_dir, settings, ref, use_gate=use_gate)


def _views(*args: Any, **kwargs: Any) -> Any:
    """:func:`.train.make_views`, imported when first needed (it brings in TensorFlow)."""
    from .train import make_views

    return make_views(*args, **kwargs)


def _train(
    ref: GuideRef,
    settings: Settings,
    params: DetectionParams,
    progress: Any,
    stop: Any = None,
    started: float | None = None,
) -> Any:
    from .train import train_detector

    return train_detector(ref, settings, params, progress, stop, started)


def _figures(m: dict) -> str:
    from ...training.report import older_figures, report_line

    report = m.get("report")
    if not report:
        return older_figures(m, "map50", "mAP@0.5")
    line = report_line(report)
    if report.get("detail_recall") is not None:
        line += (
            f", detail boxes recall {report['detail_recall']}% / precision {report.get('detail_precision')}% "
            "(IoU >= 0.5)"
        )
    return line


SPEC = MethodSpec(
    name=Method.DETECTION,
    title="Detection",
    experience="each class's most probable box over the video: the artwork and its details",
    load=_load,
    training=Training(DetectionParams, _views, _train, _open, _figures),
)

__all__ = ["SPEC", "DetectionParams"]
