"""The rules every guide follows that need no files: safe ids, known languages, boxes inside
their image. :func:`.store.validate` adds the checks that need the guide's files."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import UnsafeNameError
from ..storage import check_id, check_relative
from .model import Artwork, Guide, Text

#: Smallest artwork picture side worth indexing (a 1x1 picture is refused at import).
MIN_ARTWORK_SIDE = 32

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def _texts(art: Artwork) -> Iterable[tuple[str, Text]]:
    yield "title", art.title
    yield "author", art.author
    yield "year", art.year
    yield "description", art.description
    yield "audio", art.audio
    yield "video", art.video


def check_rules(guide: Guide) -> list[str]:
    """Every rule a guide must follow that needs no files: ids, languages, boxes.

    Returns the problems as 'where: what' strings (empty when the guide is fine).
    """
    problems: list[str] = []

    def safe(fn, value, where):
        try:
            fn(value, where)
        except UnsafeNameError as exc:
            problems.append(f"{where}: {exc}")

    safe(check_id, guide.name, "name")
    for lang in guide.languages:
        if not _LANG.match(lang):
            problems.append(f"languages: {lang!r} is not a language code like 'en' or 'pt-BR'")
    if len(set(guide.languages)) != len(guide.languages):
        problems.append("languages: listed twice")
    if guide.default_language not in guide.languages:
        problems.append(
            f"default_language: {guide.default_language!r} is not one of the guide's languages {guide.languages}"
        )
    langs = set(guide.languages)

    def check_text(text: Text, where: str) -> None:
        for lang in text:
            if lang not in langs:
                problems.append(
                    f"{where}: unknown language {lang!r} (the guide's languages are {sorted(langs)})"
                )

    check_text(guide.title, "title")
    concepts: set[str] = set()
    for c in guide.concepts:
        cwhere = f"concepts[{c.id}]"
        safe(check_id, c.id, f"{cwhere}.id")
        if c.id in concepts:
            problems.append(f"{cwhere}.id: duplicate concept id {c.id!r}")
        concepts.add(c.id)
        check_text(c.name, f"{cwhere}.name")
    seen: set[str] = set()
    for art in guide.artworks:
        where = f"artworks[{art.id}]"
        safe(check_id, art.id, f"{where}.id")
        if art.id in seen:
            problems.append(f"{where}.id: duplicate artwork id {art.id!r}")
        seen.add(art.id)
        safe(check_relative, art.image, f"{where}.image")
        if art.original is not None:
            safe(check_relative, art.original, f"{where}.original")
        if not art.title:
            problems.append(f"{where}.title: missing (give at least the default language)")
        for key, text in _texts(art):
            check_text(text, f"{where}.{key}")
        for key in ("audio", "video", "captions"):
            for path in getattr(art, key).values():
                safe(check_relative, path, f"{where}.{key}")
        dseen: set[str] = set()
        for d in art.details:
            dwhere = f"{where}.details[{d.id}]"
            safe(check_id, d.id, f"{dwhere}.id")
            if d.id in dseen:
                problems.append(f"{dwhere}.id: duplicate detail id {d.id!r} in artwork {art.id!r}")
            dseen.add(d.id)
            x, y, w, h = d.box
            if w <= 0 or h <= 0:
                problems.append(f"{dwhere}.box: width and height must be positive, got {list(d.box)}")
            elif art.width <= 0 or art.height <= 0:
                pass  # the image's size is unknown: its own problem is reported instead
            elif x < 0 or y < 0 or x + w > art.width or y + h > art.height:
                problems.append(
                    f"{dwhere}.box: {list(d.box)} goes outside the image ({art.width}x{art.height})"
                )
            for key, text in (
                ("name", d.name),
                ("description", d.description),
                ("audio", d.audio),
                ("video", d.video),
            ):
                check_text(text, f"{dwhere}.{key}")
            for key in ("audio", "video", "captions"):
                for path in getattr(d, key).values():
                    safe(check_relative, path, f"{dwhere}.{key}")
            if d.icon is not None:
                safe(check_relative, d.icon, f"{dwhere}.icon")
            if d.concept is not None and d.concept not in concepts:
                problems.append(f"{dwhere}.concept: {d.concept!r} is not one of the guide's concepts")
    return problems


def media_paths(guide: Guide) -> list[tuple[str, str]]:
    """(where, relative path) of every file the guide refers to."""
    out: list[tuple[str, str]] = []
    for art in guide.artworks:
        out.append((f"artworks[{art.id}].image", art.image))
        if art.original:
            out.append((f"artworks[{art.id}].original", art.original))
        for key in ("audio", "video", "captions"):
            out += [(f"artworks[{art.id}].{key}", p) for p in getattr(art, key).values()]
        for d in art.details:
            where = f"artworks[{art.id}].details[{d.id}]"
            if d.icon:
                out.append((f"{where}.icon", d.icon))
            for key in ("audio", "video", "captions"):
                out += [(f"{where}.{key}", p) for p in getattr(d, key).values()]
    return out
