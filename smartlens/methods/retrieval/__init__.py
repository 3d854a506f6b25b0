"""Retrieval (CBIR): build, calibrate and cache a guide's index, and recognise frames with it.

Two modes share the recogniser interface and the cached-index machinery
(:mod:`.recognizer`, :mod:`.cache`, :mod:`.calibration`):

- :mod:`.verified` (default): local features + geometric verification; needs no pretrained
  weights and says where the artwork and each detail are.
- :mod:`.baseline`: the original Smart Lens method, MobileNetV3 features of rigid sub-crops;
  good only with pretrained weights.

Both calibrate their acceptance thresholds from data when the index is built. The index is
cached under ``data/cache/index/`` and rebuilt when the guide's images or boxes change. This
module stays light (the registry imports it for every command): the modes load when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...config import Settings
from ...guide import GuideRef
from ...progress import Progress, no_progress
from ...vocabulary import Method, RetrievalMode, choices, parse
from ..spec import LoadOptions, MethodSpec

if TYPE_CHECKING:
    from .recognizer import RetrievalRecognizer


def load_retrieval(
    ref: GuideRef,
    settings: Settings,
    mode: str = RetrievalMode.VERIFIED,
    progress: Progress = no_progress,
    rebuild: bool = False,
) -> RetrievalRecognizer:
    """The retrieval recogniser of ``mode`` for a guide, its index loaded or built."""
    if parse(RetrievalMode, mode, "retrieval mode") == RetrievalMode.BASELINE:
        from .baseline import BaselineRetrieval

        return BaselineRetrieval(ref, settings, progress=progress, rebuild=rebuild)
    from .verified import VerifiedRetrieval

    return VerifiedRetrieval(ref, settings, progress=progress, rebuild=rebuild)


def _load(ref: GuideRef, settings: Settings, options: LoadOptions) -> RetrievalRecognizer:
    return load_retrieval(
        ref, settings, options.mode or RetrievalMode.VERIFIED, options.progress, options.rebuild
    )


SPEC = MethodSpec(
    name=Method.RETRIEVAL,
    title="Retrieval",
    experience="the artwork outlined and every visible detail boxed; nothing when no artwork is framed; "
    "no training, the index follows the guide",
    load=_load,
    modes=tuple(choices(RetrievalMode)),
    weightless_modes=(RetrievalMode.VERIFIED,),
)

__all__ = ["SPEC", "load_retrieval"]
