"""What every training shares in its parameters; each method's class adds fields and re-defaults some.

The classes are the one source of defaults, bounds and help texts (see :mod:`smartlens.params`):
the library, the CLI, the studio and job validation all read them. Each field's type, bounds and
help are declared once here as an ``Annotated`` alias, so a method that changes a default keeps
them (``per_image: PerImage = 30``).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, Field

from ..vocabulary import BackboneSize, Preset

#: Validation of every parameter class: unknown names, NaN and infinity refused.
PARAMS_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)
#: Shown under "advanced" in the studio.
ADVANCED = {"advanced": True}
#: Options of the command line only (folders, process counts).
CLI_ONLY = {"studio": False}

BudgetMinutes = Annotated[
    float | None,
    Field(
        gt=0,
        le=24 * 60,
        title="Time budget (minutes)",
        description="the whole job, making views included, ends in about this time, keeping the best "
        "model so far ('none': until the epochs are done)",
    ),
]
Epochs = Annotated[
    int, Field(ge=1, le=1000, title="Epochs (at most)", description="passes over the training views")
]
PerImage = Annotated[
    int,
    Field(ge=1, le=2000, title="Views per artwork", description="training views per artwork, and per detail"),
]
Negatives = Annotated[
    int,
    Field(
        ge=0,
        le=20000,
        title="Views with no artwork",
        description="frames with no guide artwork (procedural walls and rooms, the guide's negatives/ pictures)",
    ),
]
ValPerImage = Annotated[
    int,
    Field(
        ge=1,
        le=500,
        title="Validation and report views per artwork",
        description="views unlike the training ones (another camera, rooms, other paintings), per artwork and "
        "per detail, in each of two sets: validation (the best epoch, thresholds, the open-set gate) and "
        "report (the figures shown; it has 10/3 as many whole views per artwork, the benchmark's mix)",
        json_schema_extra=ADVANCED,
    ),
]
ValNegatives = Annotated[
    int,
    Field(
        ge=0,
        le=5000,
        title="Validation and report views with no artwork",
        description="frames with no guide artwork (paintings never seen among them) in each of the two sets",
        json_schema_extra=ADVANCED,
    ),
]
InputSize = Annotated[
    int,
    Field(
        ge=96,
        le=640,
        title="Input size (pixels)",
        description="frames are squashed to this square",
        json_schema_extra=ADVANCED,
    ),
]
BatchSize = Annotated[
    int,
    Field(
        ge=1, le=512, title="Batch size", description="views per training step", json_schema_extra=ADVANCED
    ),
]


@dataclass(frozen=True)
class TrainingParams:
    """What to train and how long: the part every learned method has."""

    __pydantic_config__ = PARAMS_CONFIG

    budget_minutes: BudgetMinutes = 20.0
    epochs: Epochs = 30
    per_image: PerImage = 80
    negatives: Negatives = 400
    val_per_image: ValPerImage = 8
    val_negatives: ValNegatives = 100
    preset: Annotated[
        Preset,
        Field(
            title="Augmentation",
            description="how strongly the views change the pictures",
            json_schema_extra=ADVANCED,
        ),
    ] = Preset.MEDIUM
    size: Annotated[
        BackboneSize,
        Field(title="Network size", description="MobileNetV3 small or large", json_schema_extra=ADVANCED),
    ] = BackboneSize.SMALL
    input_size: InputSize = 224
    batch_size: BatchSize = 32
    learning_rate: Annotated[
        float,
        Field(
            gt=0, le=1, title="Learning rate", description="peak learning rate", json_schema_extra=ADVANCED
        ),
    ] = 2e-3
    seed: Annotated[
        int,
        Field(
            ge=0, title="Seed", description="random seed of views and training", json_schema_extra=ADVANCED
        ),
    ] = 0
    workers: Annotated[
        int | None,
        Field(
            ge=1, le=256, description="augmentation processes (none: all cores)", json_schema_extra=CLI_ONLY
        ),
    ] = None
    negative_dirs: Annotated[
        tuple[Path, ...],
        Field(
            description="folders of real pictures with no guide artwork (other works, rooms), besides the "
            "guide's negatives/ folder (repeatable)",
            json_schema_extra=CLI_ONLY,
        ),
    ] = ()
