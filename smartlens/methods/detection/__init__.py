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


def _views(
    ref: GuideRef, settings: Settings, params: DetectionParams, progress: Any, deadline: float | None = None
) -> Any:
    from .train import make_views

    return make_views(ref, settings, params, progress, deadline)


def _train(
    ref: GuideRef, settings: Settings, params: DetectionParams, progress: Any, stop: Any = None
) -> Any:
    from .train import train_detector

    return train_detector(ref, settings, params, progress, stop)


def _figures(m: dict) -> str:
    return (
        f"held-out mAP@0.5 {m.get('map50')}%, recall {m.get('recall')}%, precision {m.get('precision')}%, "
        f"negatives with a box {m.get('negatives_fp')}%"
    )


SPEC = MethodSpec(
    name=Method.DETECTION,
    title="Detection",
    experience="each class's most probable box over the video: the artwork and its details",
    load=_load,
    training=Training(DetectionParams, _views, _train, _open, _figures),
)

__all__ = ["SPEC", "DetectionParams"]
