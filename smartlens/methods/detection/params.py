"""The detector's training parameters: the shared ones, its own defaults, and its route."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field

from ...training.params import (
    BatchSize,
    BudgetMinutes,
    Epochs,
    InputSize,
    Negatives,
    PerImage,
    TrainingParams,
    ValNegatives,
    ValPerImage,
)


@dataclass(frozen=True)
class DetectionParams(TrainingParams):
    """What to train and how long (detection): fewer, larger views than a classifier's."""

    budget_minutes: BudgetMinutes = 30.0
    epochs: Epochs = 40
    per_image: PerImage = 30
    negatives: Negatives = 300
    val_per_image: ValPerImage = 5
    val_negatives: ValNegatives = 80
    input_size: InputSize = 320
    batch_size: BatchSize = 16
    frozen_backbone: Annotated[
        bool,
        Field(
            title="Train only the heads",
            description="with pretrained weights: train the detection heads on the backbone's features "
            "computed once (fast on a CPU) instead of fine-tuning the whole network",
        ),
    ] = True
