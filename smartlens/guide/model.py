"""The museum guide as plain data: artworks, their details, and texts per language.

A guide lives in a folder (``data/guides/<name>/``) holding ``guide.json`` plus its media;
:mod:`.store` loads and saves it, :mod:`.formats` converts it from and to other formats,
:mod:`.rules` says what a valid guide is. This module only knows the shapes.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass, field
from typing import Any

from ..errors import GuideError
from ..geometry import IntBox, int_box

FORMAT = "smartlens-guide/1"
#: A translated text: language code -> text ("en" -> "The smile").
Text = dict[str, str]


@dataclass
class Detail:
    """A part of an artwork (a face, a signature...), boxed on the artwork's image."""

    id: str
    box: IntBox  # x, y, width, height in pixels of the artwork image
    name: Text = field(default_factory=dict)
    description: Text = field(default_factory=dict)
    icon: str | None = None  # relative path of a small picture for the chip
    audio: Text = field(default_factory=dict)  # language -> relative path of an audio file
    video: Text = field(default_factory=dict)  # language -> relative path of a video file
    concept: str | None = None  # id of one of the guide's concepts (a face, a signature...)
    captions: Text = field(default_factory=dict)  # language -> relative path of the video's WebVTT
    transcript: Text = field(default_factory=dict)  # language -> plain text of that language's audio

    def to_dict(self) -> dict[str, Any]:
        """The detail as guide.json stores it (new optional keys only when set: older readers and
        fingerprints of guides that do not use them stay as they were)."""
        out: dict[str, Any] = {
            "id": self.id,
            "box": list(self.box),
            "name": self.name,
            "description": self.description,
            "icon": self.icon,
            "audio": self.audio,
            "video": self.video,
        }
        if self.concept:
            out["concept"] = self.concept
        out.update(_accessible(self))
        return out


@dataclass
class Concept:
    """A kind of detail the curators name once and reuse on many artworks (a face, a signature)."""

    id: str
    name: Text = field(default_factory=dict)


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
    captions: Text = field(default_factory=dict)  # language -> relative path of the video's WebVTT
    transcript: Text = field(default_factory=dict)  # language -> plain text of that language's audio
    #: The picture as uploaded, when ``image`` is a downscaled working copy of a huge one.
    original: str | None = None

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
    concepts: list[Concept] = field(default_factory=list)

    def concept(self, concept_id: str) -> Concept:
        for c in self.concepts:
            if c.id == concept_id:
                return c
        raise KeyError(f"guide {self.name!r} has no concept {concept_id!r}")

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
        out: dict[str, Any] = {
            "format": FORMAT,
            "name": self.name,
            "title": self.title,
            "languages": list(self.languages),
            "default_language": self.default_language,
            "artworks": [_artwork_dict(a) for a in self.artworks],
        }
        if self.concepts:
            out["concepts"] = [{"id": c.id, "name": c.name} for c in self.concepts]
        return out

    @classmethod
    def from_dict(cls, data: Any, source: str = "guide.json") -> Guide:
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
                captions=_text(raw, "captions", f"{where}.captions", problems),
                transcript=_text(raw, "transcript", f"{where}.transcript", problems),
            )
            for j, rd in objects(raw.get("details"), f"{where}.details", problems):
                dwhere = f"{where}.details[{rd.get('id', j)}]"
                box = rd.get("box")
                if not is_box(box):
                    problems.append(f"{dwhere}.box: expected [x, y, width, height] numbers, got {show(box)}")
                    box = (0, 0, 0, 0)
                icon = rd.get("icon")
                if icon is not None and not isinstance(icon, str):
                    problems.append(f"{dwhere}.icon: expected a relative path or null")
                    icon = None
                art.details.append(
                    Detail(
                        id=_str(rd, "id", f"{dwhere}.id", problems),
                        box=int_box(box),
                        name=_text(rd, "name", f"{dwhere}.name", problems),
                        description=_text(rd, "description", f"{dwhere}.description", problems),
                        icon=icon,
                        audio=_text(rd, "audio", f"{dwhere}.audio", problems),
                        video=_text(rd, "video", f"{dwhere}.video", problems),
                        concept=_optional_str(rd, "concept", f"{dwhere}.concept", problems),
                        captions=_text(rd, "captions", f"{dwhere}.captions", problems),
                        transcript=_text(rd, "transcript", f"{dwhere}.transcript", problems),
                    )
                )
            original = raw.get("original")
            if original is not None and not isinstance(original, str):
                problems.append(f"{where}.original: expected a relative path or null")
                original = None
            art.original = original
            guide.artworks.append(art)
        for k, rc in objects(data.get("concepts"), "concepts", problems):
            cwhere = f"concepts[{rc.get('id', k)}]"
            guide.concepts.append(
                Concept(
                    _str(rc, "id", f"{cwhere}.id", problems), _text(rc, "name", f"{cwhere}.name", problems)
                )
            )
        if problems:
            raise GuideError(problems, source)
        return guide


def _artwork_dict(a: Artwork) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.id,
        "image": a.image,
        "width": a.width,
        "height": a.height,
        "title": a.title,
        "author": a.author,
        "year": a.year,
        "description": a.description,
        "audio": a.audio,
        "video": a.video,
        "details": [d.to_dict() for d in a.details],
    }
    if a.original:
        out["original"] = a.original
    out.update(_accessible(a))
    return out


def _accessible(item: Artwork | Detail) -> dict[str, Any]:
    """Captions and transcripts, written only when set (older guides keep their fingerprint)."""
    return {k: v for k, v in (("captions", item.captions), ("transcript", item.transcript)) if v}


_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlist, _SHOW.maxdict = 3, 60, 60, 6, 4


def show(value: object) -> str:
    """A short repr for messages: deep, long or huge values never flood (or break) a message."""
    return _SHOW.repr(value)


def objects(value: Any, where: str, problems: list[str]) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) of each object in a JSON list (absent: none); every item that is not an
    object, or a value that is not a list, becomes a problem naming ``where``."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{where}: expected a list, got {show(value)}")
        return []
    out = []
    for j, item in enumerate(value):
        if isinstance(item, dict):
            out.append((j, item))
        else:
            problems.append(f"{where}[{j}]: expected an object, got {show(item)}")
    return out


def is_number(value: object) -> bool:
    """A finite int or float (not a bool, not NaN or infinity)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_box(value: object) -> bool:
    """Four finite numbers."""
    return isinstance(value, (list, tuple)) and len(value) == 4 and all(is_number(v) for v in value)


def _str(raw: dict, key: str, where: str, problems: list[str]) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: expected a non-empty string, got {show(value)}")
        return ""
    return value


def _optional_str(raw: dict, key: str, where: str, problems: list[str]) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        problems.append(f"{where}: expected a non-empty string or null, got {show(value)}")
        return None
    return value


def _int(raw: dict, key: str, where: str, problems: list[str]) -> int:
    value = raw.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        problems.append(f"{where}: expected a positive integer, got {show(value)}")
        return 0
    return value


def _text(raw: dict, key: str, where: str, problems: list[str]) -> Text:
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        problems.append(f"{where}: expected an object of language -> text, got {show(value)}")
        return {}
    return dict(value)
