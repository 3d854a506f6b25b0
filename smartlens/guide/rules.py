"""The rules every guide follows beyond its schema (:mod:`.model`), and that need no files:
unique ids, texts in the guide's languages, boxes inside their picture, known concepts.
:func:`.store.validate` adds the checks that need the guide's files."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Artwork, Detail, Guide, Text

#: Smallest artwork picture side worth indexing (a 1x1 picture is refused at import).
MIN_ARTWORK_SIDE = 32
#: The fields of an artwork or a detail that hold files, per language.
FILE_FIELDS = ("audio", "video", "captions")


def texts(item: Artwork | Detail) -> Iterable[tuple[str, Text]]:
    """(field, texts per language) of every per-language field of an artwork or a detail."""
    names = ("title", "author", "year") if isinstance(item, Artwork) else ("name",)
    for name in (*names, "description", *FILE_FIELDS, "transcript"):
        yield name, getattr(item, name)


def check_rules(guide: Guide) -> list[str]:
    """Every rule a guide must follow beyond its schema that needs no files.

    Returns the problems as 'where: what' strings (empty when the guide is fine).
    """
    problems: list[str] = []
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
        if c.id in concepts:
            problems.append(f"concepts[{c.id}].id: duplicate concept id {c.id!r}")
        concepts.add(c.id)
        check_text(c.name, f"concepts[{c.id}].name")
    seen: set[str] = set()
    for art in guide.artworks:
        where = f"artworks[{art.id}]"
        if art.id in seen:
            problems.append(f"{where}.id: duplicate artwork id {art.id!r}")
        seen.add(art.id)
        if not art.title:
            problems.append(f"{where}.title: missing (give at least the default language)")
        for key, text in texts(art):
            check_text(text, f"{where}.{key}")
        dseen: set[str] = set()
        for d in art.details:
            dwhere = f"{where}.details[{d.id}]"
            if d.id in dseen:
                problems.append(f"{dwhere}.id: duplicate detail id {d.id!r} in artwork {art.id!r}")
            dseen.add(d.id)
            x, y, w, h = d.box
            if x + w > art.width or y + h > art.height:
                problems.append(
                    f"{dwhere}.box: {list(d.box)} goes outside the image ({art.width}x{art.height})"
                )
            for key, text in texts(d):
                check_text(text, f"{dwhere}.{key}")
            if d.concept is not None and d.concept not in concepts:
                problems.append(f"{dwhere}.concept: {d.concept!r} is not one of the guide's concepts")
    return problems


def media_paths(guide: Guide) -> list[tuple[str, str]]:
    """(where, relative path) of every file the guide refers to; ``where`` ends with the field
    (``.image``, ``.original``, ``.icon``, ``.audio``, ``.video``, ``.captions``)."""
    out: list[tuple[str, str]] = []
    for art in guide.artworks:
        out.append((f"artworks[{art.id}].image", art.image))
        if art.original:
            out.append((f"artworks[{art.id}].original", art.original))
        for key in FILE_FIELDS:
            out += [(f"artworks[{art.id}].{key}", p) for p in getattr(art, key).values()]
        for d in art.details:
            where = f"artworks[{art.id}].details[{d.id}]"
            if d.icon:
                out.append((f"{where}.icon", d.icon))
            for key in FILE_FIELDS:
                out += [(f"{where}.{key}", p) for p in getattr(d, key).values()]
    return out
