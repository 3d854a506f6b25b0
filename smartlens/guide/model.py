"""The museum guide as plain data, and the one schema of ``guide.json``.

A guide lives in a folder (``data/guides/<name>/``) holding ``guide.json`` plus its media;
:mod:`.store` loads and saves it, :mod:`.formats` converts it from and to other formats,
:mod:`.rules` adds what a schema cannot say (unique ids, boxes inside their picture).

The classes are plain dataclasses: code builds and changes them freely. Their field types
(with pydantic's annotations) are also the schema of ``guide.json``: :meth:`Guide.from_dict`
validates a file strictly against them (no type is coerced: ``"title": [1, 2]`` is refused, not
turned into text; no NaN or infinity), :func:`schema_problems` checks a guide built in code the
same way before it is saved, and :func:`guide_schema` publishes the JSON Schema for curators who
write ``guide.json`` by hand (``python -m smartlens guide schema``, ``docs/guide.schema.json``).
"""

from __future__ import annotations

import dataclasses
import json
import reprlib
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, TypeAdapter, ValidationError, with_config

from ..errors import GuideError
from ..storage import FILE_PATTERN, ID_PATTERN, check_relative

FORMAT = "smartlens-guide/1"
#: A translated text: language code -> text ("en" -> "The smile").
Text = dict[str, str]

#: Longest title, author, year or name, in characters.
MAX_LINE_CHARS = 500
#: Longest description, in characters (about eight printed pages).
MAX_TEXT_CHARS = 20_000
#: Longest transcript of an audio, in characters (over an hour of speech).
MAX_TRANSCRIPT_CHARS = 200_000
#: Largest picture side or box coordinate, in pixels.
MAX_PIXELS_SIDE = 1_000_000

#: A language code: two or three lowercase letters, then an optional region or script (``pt-BR``).
LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"


def _relative(value: str) -> str:
    return check_relative(value, "path")


def _box(box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    if box[2] <= 0 or box[3] <= 0:
        raise ValueError(f"width and height must be positive, got {list(box)}")
    return box


_PATH_PATTERN = f"^{FILE_PATTERN}(/{FILE_PATTERN})*$"
#: A safe identifier: lowercase letters, digits, '-' and '_' (artworks, details, concepts, guides);
#: the pattern is :func:`smartlens.storage.check_id`'s (checked in pydantic's core: fast).
Id = Annotated[str, Field(pattern=ID_PATTERN)]
#: A language code such as ``en``, ``it`` or ``pt-BR``.
Lang = Annotated[str, Field(pattern=LANG_PATTERN)]
#: A path inside the guide folder, such as ``images/mona-lisa.jpg`` (no ``..``, no absolute path).
RelPath = Annotated[str, AfterValidator(_relative), Field(json_schema_extra={"pattern": _PATH_PATTERN})]
_Pixels = Annotated[int, Field(ge=0, le=MAX_PIXELS_SIDE)]
#: x, y, width and height in whole pixels of the artwork's picture.
BoxField = Annotated[tuple[_Pixels, _Pixels, _Pixels, _Pixels], AfterValidator(_box)]


#: A per-language object: keys are the guide's languages (the schema refuses any other key).
_TEXTS = Field(json_schema_extra={"additionalProperties": False, "description": "Language -> text."})
_FILES = Field(
    json_schema_extra={
        "additionalProperties": False,
        "description": "Language -> a path inside the guide folder.",
    }
)
#: Short texts per language (titles, names).
Lines = Annotated[dict[Lang, Annotated[str, Field(max_length=MAX_LINE_CHARS)]], _TEXTS]
#: Long texts per language (descriptions).
Paragraphs = Annotated[dict[Lang, Annotated[str, Field(max_length=MAX_TEXT_CHARS)]], _TEXTS]
#: Transcripts per language.
Transcripts = Annotated[dict[Lang, Annotated[str, Field(max_length=MAX_TRANSCRIPT_CHARS)]], _TEXTS]
#: Files per language (audio, video, captions), as paths inside the guide folder.
Files = Annotated[dict[Lang, RelPath], _FILES]
#: Positive whole pixels.
Side = Annotated[int, Field(gt=0, le=MAX_PIXELS_SIDE)]

#: Strict: JSON types only as declared, no NaN or infinity, no unknown keys (a typo is named);
#: a dataclass built in code is checked field by field too (revalidated).
_STRICT = ConfigDict(
    strict=True,
    allow_inf_nan=False,
    extra="forbid",
    use_attribute_docstrings=True,
    revalidate_instances="always",
)


@with_config(_STRICT)
@dataclass
class Detail:
    """A part of an artwork (a face, a signature...), boxed on the artwork's picture."""

    id: Id
    """Unique within its artwork."""
    box: BoxField
    """[x, y, width, height] in whole pixels of the artwork's picture (upright)."""
    name: Lines = field(default_factory=dict)
    description: Paragraphs = field(default_factory=dict)
    icon: RelPath | None = None
    """A small picture of the detail for its card (else the lens cuts the box from the artwork)."""
    audio: Files = field(default_factory=dict)
    """Language -> an audio file (mp3, m4a, ogg or wav)."""
    video: Files = field(default_factory=dict)
    """Language -> a video file (mp4 or webm)."""
    concept: Id | None = None
    """One of the guide's concepts (a face, a signature...)."""
    captions: Files = field(default_factory=dict)
    """Language -> a WebVTT file (.vtt) of captions for that language's video."""
    transcript: Transcripts = field(default_factory=dict)
    """Language -> the plain text of that language's audio."""

    def to_dict(self) -> dict[str, Any]:
        """The detail as guide.json stores it (optional keys only when set: fingerprints of guides
        that do not use them stay as they were)."""
        return _pruned(_DETAIL.dump_python(self, mode="json", warnings=False))


@with_config(_STRICT)
@dataclass
class Concept:
    """A kind of detail the curators name once and reuse on many artworks (a face, a signature)."""

    id: Id
    name: Lines = field(default_factory=dict)


@with_config(_STRICT)
@dataclass
class Artwork:
    """One artwork: its picture, texts and details."""

    id: Id
    """Unique within the guide."""
    image: RelPath
    """The picture the lens recognises (JPEG, PNG, WebP or BMP)."""
    width: Side
    """The picture's upright width in pixels (EXIF orientation applied)."""
    height: Side
    """The picture's upright height in pixels."""
    title: Lines = field(default_factory=dict)
    author: Lines = field(default_factory=dict)
    year: Lines = field(default_factory=dict)
    description: Paragraphs = field(default_factory=dict)
    audio: Files = field(default_factory=dict)
    """Language -> an audio file (mp3, m4a, ogg or wav)."""
    video: Files = field(default_factory=dict)
    """Language -> a video file (mp4 or webm)."""
    details: list[Detail] = field(default_factory=list)
    original: RelPath | None = None
    """The picture as uploaded, when the image is a downscaled working copy of a huge one."""
    captions: Files = field(default_factory=dict)
    """Language -> a WebVTT file (.vtt) of captions for that language's video."""
    transcript: Transcripts = field(default_factory=dict)
    """Language -> the plain text of that language's audio."""

    def detail(self, detail_id: str) -> Detail:
        for d in self.details:
            if d.id == detail_id:
                return d
        raise KeyError(f"artwork {self.id!r} has no detail {detail_id!r}")


@with_config(_STRICT)
@dataclass
class Guide:
    """A museum's guide: what SmartLens recognises and what it tells about it."""

    name: Id
    languages: Annotated[list[Lang], Field(min_length=1)]
    """The languages of the guide's texts; every text is in one of them."""
    default_language: Lang
    """One of the languages: shown when a text is missing in the visitor's language."""
    title: Lines = field(default_factory=dict)
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
        """The guide as ``guide.json`` stores it."""
        data = _pruned(_GUIDE.dump_python(self, mode="json", warnings=False))
        for art in data["artworks"]:
            _pruned(art)
            for detail in art["details"]:
                _pruned(detail)
        return {"format": FORMAT, **data}

    @classmethod
    def from_dict(cls, data: Any, source: str = "guide.json") -> Guide:
        """Parse a guide dict (as read from JSON), reporting every malformed field by its path."""
        if not isinstance(data, dict):
            raise GuideError([f"top level: expected a JSON object, got {show(data)}"], source)
        data = dict(data)
        problems = []
        if data.get("format", FORMAT) != FORMAT:
            problems.append(f"format: {show(data.get('format'))} is not {FORMAT!r}")
        data.pop("format", None)
        try:
            # JSON in, strictly: objects become dataclasses and arrays tuples as declared, nothing else
            guide = _GUIDE.validate_json(json.dumps(data), strict=True)
        except ValidationError as exc:
            problems += describe(exc, data)
        if problems:
            raise GuideError(problems, source)
        return guide


#: Optional keys written only when set (guides without them keep their bytes and fingerprints).
_OPTIONAL = ("concept", "original", "captions", "transcript", "concepts")


def _pruned(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without the optional keys that are not set (in place)."""
    for key in _OPTIONAL:
        if key in data and not data[key]:
            del data[key]
    return data


_GUIDE = TypeAdapter(Guide)
_DETAIL = TypeAdapter(Detail)


def schema_problems(guide: Guide) -> list[str]:
    """What is wrong with a guide built in code, checked field by field as ``guide.json`` will be
    read back (the dataclasses are revalidated, strictly)."""
    try:
        _GUIDE.validate_python(guide, strict=True)
    except ValidationError as exc:
        return describe(exc, guide)
    return []


def guide_schema() -> dict[str, Any]:
    """The JSON Schema of ``guide.json`` (draft 2020-12), for curators who write it by hand."""
    schema = _GUIDE.json_schema()
    schema["properties"] = {
        "format": {"const": FORMAT, "description": "The version of this format."},
        **schema["properties"],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "SmartLens guide (guide.json)",
        "description": (
            "A museum guide: its languages, artworks, their details and texts. Paths are relative "
            "to the folder holding guide.json. Beyond this schema: ids are unique, every text is in "
            "one of the guide's languages, boxes lie inside their picture, files exist and are what "
            "their field says (`smartlens guide check` checks all of it)."
        ),
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


# --- messages -----------------------------------------------------------------------------------
_SHOW = reprlib.Repr()
_SHOW.maxlevel, _SHOW.maxstring, _SHOW.maxother, _SHOW.maxlist, _SHOW.maxdict = 3, 60, 60, 6, 4


def show(value: object) -> str:
    """A short repr for messages: deep, long or huge values never flood (or break) a message."""
    return _SHOW.repr(value)


def _child(node: Any, key: str | int) -> Any:
    """One step down JSON data or the dataclasses (None where the step does not exist)."""
    if isinstance(key, int):
        return node[key] if isinstance(node, list) and 0 <= key < len(node) else None
    if isinstance(node, dict):
        return node.get(key)
    return getattr(node, key, None) if dataclasses.is_dataclass(node) else None


def describe(exc: ValidationError, data: Any) -> list[str]:
    """pydantic's errors as 'where: what' problems about ``data`` (JSON, or the guide's dataclasses);
    list items are named by their id when they have one (``artworks[mona-lisa].details[face].box``),
    else by their position."""
    out: list[str] = []
    for err in exc.errors(include_url=False):
        where, node, value = "", data, err.get("input")
        loc = list(err["loc"])
        for i, key in enumerate(loc):
            if key == "[key]":
                where += " (a language code)"
                break
            node = _child(node, key)
            if isinstance(key, int):
                ident = _child(node, "id")
                where += f"[{ident if isinstance(ident, str) and ident else key}]"
                continue
            where += f".{key}" if where else str(key)
            if key == "box" and (i < len(loc) - 1 or err["type"] != "value_error"):
                value, err = node, {**err, "type": "box"}
                break
        out.append(f"{where or 'top level'}: {_message(err, value)}")
    return list(dict.fromkeys(out))  # a box with two bad numbers is one problem


#: pydantic's error types -> what was expected, in the words of the other messages.
_EXPECTED = {
    "string_type": "expected a text",
    "int_type": "expected a whole number",
    "dict_type": "expected an object",
    "list_type": "expected a list",
    "dataclass_type": "expected an object",
    "greater_than": "expected a number over {gt}",
    "greater_than_equal": "expected a number of at least {ge}",
    "less_than_equal": "expected a number of at most {le}",
    "too_short": "expected at least {min_length} item(s)",
}


def _message(err: Any, value: object) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in ("missing", "missing_argument"):
        return "missing (required)"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "not a field of guide.json (a typo? see docs/guide.schema.json)"
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "box":
        return f"expected [x, y, width, height] as 4 whole numbers of pixels, got {show(value)}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == LANG_PATTERN:
        return f"{show(value)} is not a language code like 'en' or 'pt-BR'"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == ID_PATTERN:
        return f"{show(value)} is not allowed: use 1-80 lowercase letters, digits, '-' or '_' (a letter or digit first)"
    if kind == "string_too_long" and isinstance(value, str):
        return f"too long ({len(value):,} characters; at most {ctx['max_length']:,})"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind].format(**ctx)}, got {show(value)}"
    msg = str(err["msg"])
    return f"{msg[:1].lower()}{msg[1:]}, got {show(value)}"
