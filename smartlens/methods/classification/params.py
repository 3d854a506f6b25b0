"""The classifier's training parameters: the shared ones plus its own route."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from ...training.params import TrainingParams


@dataclass(frozen=True)
class ClassificationParams(TrainingParams):
    """What to train and how long (classification)."""

    frozen_features: Annotated[
        bool,
        Field(
            title="Train only a head on frozen features",
            description="with a TFLite feature extractor as the weights: train a small head on its frozen "
            "features (a few minutes) instead of fine-tuning the whole network (its input size and network "
            "size are the extractor's own)",
            json_schema_extra={"ignores": ["input_size", "size"]},
        ),
    ] = False
