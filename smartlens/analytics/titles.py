"""The names the figures show instead of ids: each artwork's title and each detail's name, in the
language the staff chose, from the guides themselves (events hold only ids)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import Settings
from ..guide.model import Guide

log = logging.getLogger("smartlens.stats")


@dataclass(frozen=True)
class Title:
    """One artwork's title (``detail`` None) or one detail's name, and its place in the guide."""

    guide: str
    artwork: str
    detail: str | None
    title: str
    position: int


def guide_titles(guides: Iterable[Guide], language: str | None = None) -> tuple[Title, ...]:
    """Titles of every artwork and names of every detail of ``guides``, in ``language`` where the
    guide has it, else in its default language; the id when a text is empty."""
    out: list[Title] = []
    for guide in guides:
        for position, art in enumerate(guide.artworks):
            out.append(Title(guide.name, art.id, None, guide.text(art.title, language) or art.id, position))
            for d in art.details:
                out.append(Title(guide.name, art.id, d.id, guide.text(d.name, language) or d.id, position))
    return tuple(out)


def load_titles(settings: Settings, names: Iterable[str], language: str | None = None) -> tuple[Title, ...]:
    """:func:`guide_titles` of the guides called ``names`` in the data folder; a guide that cannot be
    read is skipped (its figures show ids) and logged."""
    from ..errors import USER_ERRORS
    from ..guide import load_guide

    guides = []
    for name in names:
        try:
            guides.append(load_guide(name, settings, check=False).guide)
        except USER_ERRORS + (OSError,) as exc:
            log.warning("guide %s cannot be read, its figures show ids: %s", name, exc)
    return guide_titles(guides, language)
