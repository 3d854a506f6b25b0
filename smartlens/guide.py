"""The museum guide as plain data: artworks, their details, and texts per language.

A guide lives in a folder (``data/guides/<name>/``) holding ``guide.json`` plus its media;
:mod:`smartlens.guide_store` loads and saves it, :mod:`smartlens.guide_io` converts it from
and to other formats. This module only knows the shapes and the rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from .storage import UnsafeNameError, check_id, check_relative

FORMAT = "smartlens-guide/1"
#: A translated text: language code -> text ("en" -> "The smile").
Text = dict[str, str]
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


class GuideError(ValueError):
    """A guide that breaks a rule; ``problems`` lists every bad field as 'where: what'."""

    def __init__(self, problems: list[str], source: str = "guide"):
        self.problems = problems
        lines = "\n  - ".join(problems)
        super().__init__(f"{source} is not valid ({len(problems)} problem{'s' * (len(problems) > 1)}):\n  - {lines}")


@dataclass
class Detail:
    """A part of an artwork (a face, a signature...), boxed on the artwork's image."""

    id: str
    box: tuple[int, int, int, int]  # x, y, width, height in pixels of the artwork image
    name: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    icon: str | None = None  # relative path of a small picture for the chip
    audio: Text = field(default_factory=dict)  # language -> relative path of an audio file
    video: Text = field(default_factory=dict)  # language -> relative path of a video file


@dataclass
class Artwork:
    """One artwork: its picture, texts and details."""

    id: str
    image: str  # relative path inside the guide folder
    width: int
    height: int
    title: Text = field(default_factory=dict)
    author: Text = field(default_factory=dict)
    year: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    audio: Text = field(default_factory=dict)
    video: Text = field(default_factory=dict)
    details: list[Detail] = field(default_factory=list)

    def detail(self, detail_id: str) -> Detail:
        for d in self.details:
            if d.id == detail_id:
                return d
        raise KeyError(f"artwork {self.id!r} has no detail {detail_id!r}")


@dataclass
class Guide:
    """A museum's guide: what SmartLens recognises and what it tells about it."""

    name: str
    languages: list[str]
    default_language: str
    title: Text = field(default_factory=dict)
    artworks: list[Artwork] = field(default_factory=list)

    def artwork(self, artwork_id: str) -> Artwork:
        for a in self.artworks:
            if a.id == artwork_id:
                return a
        raise KeyError(f"guide {self.name!r} has no artwork {artwork_id!r}")

    def text(self, text: Text | None, language: str | None = None) -> str:
        """The text in ``language``, else the guide's default language, else any, else ''."""
        if not text:
            return ""
        for lang in (language, self.default_language):
            if lang and text.get(lang):
                return text[lang]
        return next((t for t in text.values() if t), "")

    # --- serialisation -------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        def detail(d: Detail) -> dict[str, Any]:
            return {
                "id": d.id, "box": list(d.box), "name": d.name, "description": d.description,
                "icon": d.icon, "audio": d.audio, "video": d.video,
            }

        return {
            "format": FORMAT,
            "name": self.name,
            "title": self.title,
            "languages": list(self.languages),
            "default_language": self.default_language,
            "artworks": [
                {
                    "id": a.id, "image": a.image, "width": a.width, "height": a.height,
                    "title": a.title, "author": a.author, "year": a.year,
                    "description": a.description, "audio": a.audio, "video": a.video,
                    "details": [detail(d) for d in a.details],
                }
                for a in self.artworks
            ],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "guide.json") -> "Guide":
        """Parse a guide dict, reporting every malformed field by its path."""
        problems: list[str] = []
        if not isinstance(data, dict):
            raise GuideError(["top level: expected a JSON object"], source)
        if data.get("format", FORMAT) != FORMAT:
            problems.append(f"format: {data.get('format')!r} is not {FORMAT!r}")
        languages = data.get("languages")
        if not isinstance(languages, list) or not languages or not all(isinstance(x, str) for x in languages):
            problems.append("languages: expected a non-empty list of language codes")
            languages = ["en"]
        guide = cls(
            name=_str(data, "name", "name", problems),
            languages=list(languages),
            default_language=_str(data, "default_language", "default_language", problems),
            title=_text(data, "title", "title", problems),
        )
        artworks = data.get("artworks")
        if not isinstance(artworks, list):
            problems.append("artworks: expected a list")
            artworks = []
        for i, raw in enumerate(artworks):
            where = f"artworks[{i}]"
            if not isinstance(raw, dict):
                problems.append(f"{where}: expected an object")
                continue
            where = f"artworks[{raw.get('id', i)}]"
            art = Artwork(
                id=_str(raw, "id", f"{where}.id", problems),
                image=_str(raw, "image", f"{where}.image", problems),
                width=_int(raw, "width", f"{where}.width", problems),
                height=_int(raw, "height", f"{where}.height", problems),
                title=_text(raw, "title", f"{where}.title", problems),
                author=_text(raw, "author", f"{where}.author", problems),
                year=_text(raw, "year", f"{where}.year", problems),
                description=_text(raw, "description", f"{where}.description", problems),
                audio=_text(raw, "audio", f"{where}.audio", problems),
                video=_text(raw, "video", f"{where}.video", problems),
            )
            details = raw.get("details", [])
            if not isinstance(details, list):
                problems.append(f"{where}.details: expected a list")
                details = []
            for j, rd in enumerate(details):
                dwhere = f"{where}.details[{j}]"
                if not isinstance(rd, dict):
                    problems.append(f"{dwhere}: expected an object")
                    continue
                dwhere = f"{where}.details[{rd.get('id', j)}]"
                box = rd.get("box")
                if not (isinstance(box, (list, tuple)) and len(box) == 4
                        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in box)):
                    problems.append(f"{dwhere}.box: expected [x, y, width, height] numbers, got {box!r}")
                    box = (0, 0, 0, 0)
                icon = rd.get("icon")
                if icon is not None and not isinstance(icon, str):
                    problems.append(f"{dwhere}.icon: expected a relative path or null")
                    icon = None
                art.details.append(Detail(
                    id=_str(rd, "id", f"{dwhere}.id", problems),
                    box=tuple(int(round(v)) for v in box),  # type: ignore[arg-type]
                    name=_text(rd, "name", f"{dwhere}.name", problems),
                    description=_text(rd, "description", f"{dwhere}.description", problems),
                    icon=icon,
                    audio=_text(rd, "audio", f"{dwhere}.audio", problems),
                    video=_text(rd, "video", f"{dwhere}.video", problems),
                ))
            guide.artworks.append(art)
        if problems:
            raise GuideError(problems, source)
        return guide


def _str(raw: dict, key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: expected a non-empty string, got {value!r}")
        return ""
    return value


def _int(raw: dict, key: str, where: str, problems: list[str]) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        problems.append(f"{where}: expected a positive integer, got {value!r}")
        return 0
    return value


def _text(raw: dict, key: str, where: str, problems: list[str]) -> Text:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        problems.append(f"{where}: expected an object of language -> text, got {value!r}")
        return {}
    return dict(value)


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
        problems.append(f"default_language: {guide.default_language!r} is not one of the guide's languages {guide.languages}")
    langs = set(guide.languages)

    def check_text(text: Text, where: str) -> None:
        for lang in text:
            if lang not in langs:
                problems.append(f"{where}: unknown language {lang!r} (the guide's languages are {sorted(langs)})")

    check_text(guide.title, "title")
    seen: set[str] = set()
    for art in guide.artworks:
        where = f"artworks[{art.id}]"
        safe(check_id, art.id, f"{where}.id")
        if art.id in seen:
            problems.append(f"{where}.id: duplicate artwork id {art.id!r}")
        seen.add(art.id)
        safe(check_relative, art.image, f"{where}.image")
        if not art.title:
            problems.append(f"{where}.title: missing (give at least the default language)")
        for key, text in _texts(art):
            check_text(text, f"{where}.{key}")
        for key in ("audio", "video"):
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
            elif x < 0 or y < 0 or x + w > art.width or y + h > art.height:
                problems.append(
                    f"{dwhere}.box: {list(d.box)} goes outside the image ({art.width}x{art.height})"
                )
            for key, text in (("name", d.name), ("description", d.description), ("audio", d.audio), ("video", d.video)):
                check_text(text, f"{dwhere}.{key}")
            for key in ("audio", "video"):
                for path in getattr(d, key).values():
                    safe(check_relative, path, f"{dwhere}.{key}")
            if d.icon is not None:
                safe(check_relative, d.icon, f"{dwhere}.icon")
    return problems


def media_paths(guide: Guide) -> list[tuple[str, str]]:
    """(where, relative path) of every file the guide refers to."""
    out: list[tuple[str, str]] = []
    for art in guide.artworks:
        out.append((f"artworks[{art.id}].image", art.image))
        for key in ("audio", "video"):
            out += [(f"artworks[{art.id}].{key}", p) for p in getattr(art, key).values()]
        for d in art.details:
            where = f"artworks[{art.id}].details[{d.id}]"
            if d.icon:
                out.append((f"{where}.icon", d.icon))
            for key in ("audio", "video"):
                out += [(f"{where}.{key}", p) for p in getattr(d, key).values()]
    return out
