"""The names SmartLens' parts agree on: methods, retrieval modes, presets, backbone sizes.

The CLI's choices, the studio's selectors and the library's checks all read them from here,
so a name is typed once.
"""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    """How a frame is recognised (each a different visitor experience)."""

    RETRIEVAL = "retrieval"
    CLASSIFICATION = "classification"
    DETECTION = "detection"


class RetrievalMode(StrEnum):
    """Variants of the retrieval method."""

    VERIFIED = "verified"  # local features + geometric verification (the default)
    BASELINE = "baseline"  # the original Smart Lens: CNN features of rigid sub-crops


class Preset(StrEnum):
    """How strongly augmentation changes the training views."""

    LIGHT = "light"
    MEDIUM = "medium"
    HEAVY = "heavy"


class BackboneSize(StrEnum):
    """MobileNetV3 variants."""

    SMALL = "small"
    LARGE = "large"


#: The classifier's class for frames that show no artwork of the guide.
REJECT = "__reject__"


def choices(kind: type[StrEnum]) -> list[str]:
    """The values of a vocabulary, in order (for argparse ``choices`` and selectors)."""
    return [m.value for m in kind]


def parse(kind: type[StrEnum], value: str, what: str) -> StrEnum:
    """``value`` as a member of ``kind``, or a :class:`UserError` listing the known names."""
    from .errors import UserError

    try:
        return kind(value)
    except ValueError:
        raise UserError(f"unknown {what} {value!r}: choose one of {', '.join(choices(kind))}") from None
