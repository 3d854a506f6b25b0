"""The small transforms views are made of, and the named presets that compose them.

Each block is one kind of change a museum photo goes through (albumentations transforms,
scaled by a strength ``k``). Presets pick blocks and a strength; a custom list of block
names works too. The camera simulation, threshold calibration and the training-data engine
all use these, so they see the same kinds of degradation.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import cv2

from ..errors import UserError
from ..vocabulary import Preset

#: Strength of each preset (scales every block).
PRESETS: dict[str, float] = {Preset.LIGHT: 0.5, Preset.MEDIUM: 1.0, Preset.HEAVY: 1.6}

#: Geometric blocks (boxes follow them).
GEOMETRIC: dict[str, Callable[[float], A.BasicTransform]] = {
    # borders are reflected: a black wedge in the corner would be a give-away no camera produces
    "perspective": lambda k: A.Perspective(
        scale=(0.02, 0.03 + 0.04 * k), border_mode=cv2.BORDER_REFLECT_101, p=0.6
    ),
    "affine": lambda k: A.Affine(
        rotate=(-6 * k, 6 * k),
        shear=(-3 * k, 3 * k),
        scale=(0.9, 1.1),
        border_mode=cv2.BORDER_REFLECT_101,
        p=0.6,
    ),
    "rotate90": lambda k: A.RandomRotate90(p=0.1 * k),
}

#: Photometric blocks (pixels only).
PHOTOMETRIC: dict[str, Callable[[float], A.BasicTransform]] = {
    "light": lambda k: A.Compose(
        [
            A.Illumination(intensity_range=(0.02, 0.12 * k), p=0.5 * min(k, 1.2)),
            A.RandomBrightnessContrast(brightness_limit=0.2 * k, contrast_limit=0.2 * k, p=0.7),
            A.RandomGamma(gamma_limit=(100 - 20 * k, 100 + 20 * k), p=0.4),
        ]
    ),
    "colour": lambda k: A.Compose(
        [
            A.PlanckianJitter(p=min(1.0, 0.4 * k)),  # white balance of different sensors
            A.HueSaturationValue(
                hue_shift_limit=int(6 * k), sat_shift_limit=int(20 * k), val_shift_limit=0, p=0.4
            ),
        ]
    ),
    "lens": lambda k: A.Compose(
        [
            A.ChromaticAberration(p=min(1.0, 0.15 * k)),
            A.Downscale(scale_range=(max(0.3, 1 - 0.35 * k), 0.95), p=min(1.0, 0.25 * k)),
        ]
    ),
    "glare": lambda k: A.RandomSunFlare(
        flare_roi=(0, 0, 1, 1), src_radius=120, num_flare_circles_range=(1, 3), p=min(1.0, 0.08 * k)
    ),
    "dirt": lambda k: A.Spatter(mode="mud", intensity=(0.2 * k, 0.4 * k), p=min(1.0, 0.06 * k)),
    "blur": lambda k: A.OneOf(
        [
            A.MotionBlur(blur_limit=(3, 3 + 2 * int(2 * k)), p=1),
            A.GaussianBlur(sigma_limit=(0.3, 0.6 + 0.8 * k), p=1),
            A.Defocus(radius=(1, 1 + int(2 * k)), alias_blur=(0.1, 0.3), p=1),
        ],
        p=min(1.0, 0.45 * k),
    ),
    "noise": lambda k: A.OneOf(
        [
            A.GaussNoise(std_range=(0.01, 0.03 + 0.03 * k), p=1),
            A.ISONoise(intensity=(0.05, 0.2 + 0.2 * k), p=1),
        ],
        p=min(1.0, 0.5 * k),
    ),
    "jpeg": lambda k: A.ImageCompression(quality_range=(int(max(25, 85 - 35 * k)), 95), p=0.7),
}

BLOCKS = tuple(GEOMETRIC) + tuple(PHOTOMETRIC)


def strength(preset: str) -> float:
    """The strength ``k`` of a named preset."""
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[preset]


def check_blocks(names: list[str]) -> list[str]:
    """``names`` if every one is a known block."""
    unknown = [n for n in names if n not in BLOCKS]
    if unknown:
        raise UserError(f"unknown transform(s) {', '.join(unknown)}: choose from {', '.join(BLOCKS)}")
    return names


def photometric(preset: str = Preset.MEDIUM, blocks: list[str] | None = None) -> A.Compose:
    """Colour, light, lens, sensor, dirt, blur, noise and compression changes; no geometry."""
    k = strength(preset)
    names = [n for n in check_blocks(blocks or list(PHOTOMETRIC)) if n in PHOTOMETRIC]
    return A.Compose([PHOTOMETRIC[n](k) for n in names])


def geometric(preset: str = Preset.MEDIUM, blocks: list[str] | None = None) -> list[A.BasicTransform]:
    k = strength(preset)
    return [GEOMETRIC[n](k) for n in check_blocks(blocks or list(GEOMETRIC)) if n in GEOMETRIC]
