"""Edits curators make in the studio: each one read-modify-write under the guide's lock.

Every edit takes the guide's lock, reads the guide as it is on disk now and applies the change
to that copy, so two curators editing different artworks never overwrite each other. An edit
made from a page showing an older copy of the artwork it changes (someone else saved that
artwork since) is refused with :class:`StaleEditError` rather than applied over newer data.
"""

from __future__ import annotations

import copy
import hashlib
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import GuideError, StaleEditError
from ..geometry import int_box
from ..imaging import DEFAULT_LIMITS, ImageLimits, decode_for_work, encode_jpeg, picture_type
from ..media import EXTENSIONS, identify
from ..storage import check_id, slugify
from .lock import DEFAULT_TIMEOUT, guide_lock
from .model import Artwork, Concept, Detail, Guide, Text, show
from .rules import texts
from .store import GuideRef, read_guide, update_locked

Change = Callable[[Guide], "dict[str, Path] | None"]


@dataclass(frozen=True)
class Part:
    """The part of the guide an edit changes, as a page shows it: ``state`` reads it from a guide.
    The edit is refused when it differs on disk from the page's copy (someone saved it since)."""

    name: str  # "artwork 'mona-lisa'", "the guide's default language"
    state: Callable[[Guide], object]
    plural: bool = False  # "the guide's languages were changed"


def _artwork_state(guide: Guide, artwork_id: str) -> dict | None:
    for a in guide.to_dict()["artworks"]:
        if a["id"] == artwork_id:
            return a
    return None


def artwork_part(artwork_id: str) -> Part:
    """One artwork, whole (its texts, details and media)."""
    return Part(f"artwork '{artwork_id}'", lambda g: _artwork_state(g, artwork_id))


def edit_guide(
    ref: GuideRef,
    change: Change,
    artwork_id: str | None = None,
    limits: ImageLimits = DEFAULT_LIMITS,
    timeout: float = DEFAULT_TIMEOUT,
    part: Part | None = None,
) -> GuideRef:
    """Apply ``change`` to the guide as it is on disk now, under its lock, and save it.

    ``change`` edits the guide it is given and returns the new media files (relative path ->
    file) or None. With ``part`` (or ``artwork_id``, that artwork's part), the edit is refused if
    that part differs on disk from the caller's copy (``ref``): someone else changed it since the
    caller's page was drawn. Edits of other parts made meanwhile are kept (merged).
    """
    if part is None and artwork_id is not None:
        part = artwork_part(artwork_id)
    with guide_lock(ref.root, timeout):
        current = read_guide(ref.root, limits, check=False)
        if part is not None and current.revision != ref.revision:
            mine, theirs = part.state(ref.guide), part.state(current.guide)
            if mine != theirs:
                what = ("were " if part.plural else "was ") + ("removed" if theirs is None else "changed")
                raise StaleEditError(
                    f"{part.name} {what} by someone else since this page was loaded; "
                    "reload the guide and make your change again (nothing was saved)"
                )
        guide = copy.deepcopy(current.guide)
        files = change(guide)
        return update_locked(ref.root, guide, current.guide, files, limits)


#: Picture formats the studio's uploader offers (any picture is taken for what its bytes are).
UPLOAD_TYPES = ("jpg", "jpeg", "png", "webp")


def add_artwork(
    ref: GuideRef,
    data: bytes,
    filename: str,
    title: str,
    language: str,
    max_side: int = 2400,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Add an uploaded picture as a new artwork (decoded and re-encoded: no foreign bytes kept).

    The working picture is upright (EXIF orientation applied) and at most ``max_side`` a side; a
    picture over the pixel limit (a museum scan) is downscaled for work, and the upload is kept
    as the artwork's ``original``, under the extension of what it is (its name is not trusted).
    """
    kind = picture_type(data, filename) if data else ""  # a GIF, TIFF or HEIC is refused here
    image, (w0, h0) = decode_for_work(data, filename, max_side, limits)
    h, w = image.shape[:2]
    base = slugify(title or Path(filename).stem, "artwork")
    keep_original = w0 * h0 > limits.max_pixels
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.jpg"
        path.write_bytes(encode_jpeg(image, 92))
        original = Path(tmp) / "original"
        if keep_original:
            original.write_bytes(data)

        def change(guide: Guide) -> dict[str, Path]:
            # the id is chosen against the guide as saved now, not the caller's older copy
            art_id, n = base, 2
            while any(a.id == art_id for a in guide.artworks):
                art_id, n = f"{base}-{n}", n + 1
            rel = f"images/{art_id}.jpg"
            art = Artwork(art_id, rel, w, h, title={language: title or art_id})
            files = {rel: path}
            if keep_original:
                art.original = f"originals/{art_id}.{kind}"
                files[art.original] = original
            guide.artworks.append(art)
            return files

        return edit_guide(ref, change, limits=limits)


def remove_artwork(ref: GuideRef, artwork_id: str) -> GuideRef:
    """The guide without one artwork (already gone: nothing to do)."""

    def change(guide: Guide) -> None:
        guide.artworks = [a for a in guide.artworks if a.id != artwork_id]

    try:
        return edit_guide(ref, change, artwork_id)
    except StaleEditError:
        current = read_guide(ref.root, check=False)
        if _artwork_state(current.guide, artwork_id) is None:
            return current  # someone else removed it already: what was asked is done
        raise


def set_texts(
    ref: GuideRef, artwork_id: str, language: str, title: str, author: str, year: str, description: str
) -> GuideRef:
    """Set an artwork's texts in one language (empty fields remove that translation)."""

    def change(guide: Guide) -> None:
        art = guide.artwork(artwork_id)
        for name, value in (
            ("title", title),
            ("author", author),
            ("year", year),
            ("description", description),
        ):
            text = getattr(art, name)
            if value.strip():
                text[language] = value.strip()
            else:
                text.pop(language, None)

    return edit_guide(ref, change, artwork_id)


#: A detail as the annotation page saves it: id, box (image pixels), name, description, concept.
DetailRow = tuple[str, tuple[float, float, float, float], str, str]


def _is_box(box: object) -> bool:
    """Four finite numbers (not bools)."""
    return (
        isinstance(box, (list, tuple))
        and len(box) == 4
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)
    )


def set_details(
    ref: GuideRef,
    artwork_id: str,
    details: list[DetailRow] | list[tuple[str, tuple[float, float, float, float], str, str, str | None]],
    language: str,
) -> GuideRef:
    """Replace an artwork's details by (id, box, name, description[, concept]) in ``language``;
    texts in other languages are kept for details that keep their id. A detail with a concept and
    no name of its own is named after the concept (in every language the concept has)."""
    problems = []
    for row in details:
        check_id(row[0], "detail id")
        if not _is_box(row[1]):
            problems.append(
                f"detail {row[0]!r}: box {show(row[1])} is not [x, y, width, height] as 4 finite numbers"
            )
    ids = [row[0] for row in details]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    problems += [f"detail id {i!r} is used by two boxes: give each box its own id" for i in twice]
    if problems:
        raise GuideError(problems, f"artwork {artwork_id!r}")

    def change(guide: Guide) -> None:
        art = guide.artwork(artwork_id)
        old = {d.id: d for d in art.details}
        new = []
        for row in details:
            det_id, box, name, description = row[:4]
            concept = row[4] if len(row) > 4 else None
            d = copy.deepcopy(old.get(det_id)) or Detail(det_id, int_box(box))
            d.box = int_box(box)
            if name:
                d.name[language] = name
            if description:
                d.description[language] = description
            if concept is not None:
                d.concept = concept or None
            if d.concept and not d.name:
                try:
                    d.name = dict(guide.concept(d.concept).name)
                except KeyError:
                    pass  # the rules report an unknown concept
            new.append(d)
        art.details = new

    return edit_guide(ref, change, artwork_id)


#: Media an artwork or a detail may have, and the file types the studio's uploaders offer for each.
MEDIA_TYPES = {
    "audio": EXTENSIONS["audio"],
    "video": EXTENSIONS["video"],
    "captions": EXTENSIONS["captions"],
    "picture": UPLOAD_TYPES,
}
#: Longest side of a detail's picture as stored (the lens shows it on a phone).
PICTURE_SIDE = 720


def set_media(
    ref: GuideRef,
    artwork_id: str,
    detail_id: str | None,
    kind: str,
    language: str | None,
    data: bytes | None,
    filename: str = "",
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Attach an artwork's (``detail_id`` None) or a detail's audio, video or captions in
    ``language``, or a detail's picture (one for all languages); ``data`` None removes it.

    What the file is comes from its bytes, never its name (:func:`smartlens.media.identify`):
    audio and video are probed with PyAV, captions must be WebVTT, a picture is decoded, turned
    upright and re-encoded; anything else is refused. It is stored under ``media/<artwork>/``
    with a name made of the ids and a hash of its content, under the extension of what it is.
    The file it replaces is deleted once the guide is saved.
    """
    owner = f"artwork '{artwork_id}'" + (f", detail '{detail_id}'" if detail_id else "")
    where = f"{owner}, {kind}"
    if kind not in MEDIA_TYPES or (kind == "picture" and detail_id is None):
        kinds = ", ".join(k for k in MEDIA_TYPES if detail_id or k != "picture")
        raise GuideError([f"{owner}: media kind {kind!r}: expected one of {kinds}"], "upload")
    if kind != "picture" and not language:
        raise GuideError([f"{where}: say which language it is in"], "upload")
    with tempfile.TemporaryDirectory() as tmp:
        rel: str | None = None
        files: dict[str, Path] = {}
        if data is not None:
            source = f"{where}: {Path(filename).name[:80]!r}"
            token = hashlib.sha256(data).hexdigest()[:10]
            if kind == "picture":
                picture_type(data, source)  # a GIF, TIFF or HEIC is refused, not converted
                image, _ = decode_for_work(data, source, PICTURE_SIDE, limits)
                payload, ext = encode_jpeg(image, 90), "jpg"
            else:
                payload, ext = data, identify(kind, data, source)
            lang_part = f"-{slugify(language or '', 'all')}" if kind != "picture" else ""
            stem = check_id(detail_id or artwork_id, "detail id")[:60]
            rel = f"media/{check_id(artwork_id, 'artwork id')}/{stem}-{kind}{lang_part}-{token}.{ext}"
            path = Path(tmp) / "media"
            path.write_bytes(payload)
            files[rel] = path

        def change(guide: Guide) -> dict[str, Path]:
            art = guide.artwork(artwork_id)
            item: Artwork | Detail = art.detail(detail_id) if detail_id else art
            if isinstance(item, Detail) and kind == "picture":
                item.icon = rel
            else:
                text = getattr(item, kind)
                if rel is None:
                    text.pop(language or "", None)
                else:
                    text[language or ""] = rel
            return files

        try:
            return edit_guide(ref, change, artwork_id, limits)
        except KeyError as exc:
            raise GuideError([f"{where}: {exc.args[0]} (save the details first)"], "upload") from None


#: The annotate page's name for :func:`set_media` (a detail's media).
set_detail_media = set_media


def set_transcript(
    ref: GuideRef, artwork_id: str, detail_id: str | None, language: str, transcript: str
) -> GuideRef:
    """The plain-text transcript of an artwork's (``detail_id`` None) or a detail's audio in
    ``language`` (empty: removed). Its length is limited by the guide's schema."""

    def change(guide: Guide) -> None:
        art = guide.artwork(artwork_id)
        item: Artwork | Detail = art.detail(detail_id) if detail_id else art
        if transcript.strip():
            item.transcript[language] = transcript.strip()
        else:
            item.transcript.pop(language, None)

    try:
        return edit_guide(ref, change, artwork_id)
    except KeyError as exc:
        raise GuideError(
            [f"artwork '{artwork_id}': {exc.args[0]} (save the details first)"], "transcript"
        ) from None


def boxes_from_canvas(
    boxes: list[dict], shown: tuple[int, int], image: tuple[int, int]
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(label, box in image pixels) of boxes drawn on a picture shown at ``shown`` (width, height)
    whose file is ``image`` (width, height): the display size never reaches the guide. Boxes are
    clipped to the picture; one with no area left is dropped."""
    sx, sy = image[0] / shown[0], image[1] / shown[1]
    out = []
    for b in boxes:
        x0, y0 = max(0.0, b["left"] * sx), max(0.0, b["top"] * sy)
        x1 = min(float(image[0]), (b["left"] + b["width"]) * sx)
        y1 = min(float(image[1]), (b["top"] + b["height"]) * sy)
        if x1 - x0 >= 1 and y1 - y0 >= 1:
            out.append((str(b.get("label") or ""), (x0, y0, x1 - x0, y1 - y0)))
    return out


def next_detail_id(existing: list[str], base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken yet."""
    base = slugify(base, "detail")
    name, n = base, 2
    while name in existing:
        name, n = f"{base}-{n}", n + 1
    return name


def _parts_of(art: Artwork) -> list[Artwork | Detail]:
    return [art, *art.details]


def _texts_in(guide: Guide, languages: list[str]) -> list:
    """Every text (and media path) of the guide in ``languages``, by where it is."""
    out: list = [("title", {k: v for k, v in guide.title.items() if k in languages})]
    out += [(f"concept {c.id}", {k: v for k, v in c.name.items() if k in languages}) for c in guide.concepts]
    for art in guide.artworks:
        for item in _parts_of(art):
            out += [
                (f"{art.id} {item.id} {key}", {k: v for k, v in text.items() if k in languages})
                for key, text in texts(item)
            ]
    return out


def set_languages(ref: GuideRef, languages: list[str], default: str) -> GuideRef:
    """The guide's languages and default language (texts in a dropped language are removed).

    Only what differs from the page's copy (``ref``) is changed, field by field: a default language
    changed on a page drawn before someone added a language keeps that language. A change of the
    list is refused when the list, or any text in a language it drops, changed since the page was
    drawn (nothing another curator saved is deleted unseen).
    """
    langs = [x.strip() for x in languages if x.strip()]
    default = default.strip()
    shown = ref.guide
    new_list = langs != shown.languages
    new_default = default != shown.default_language
    if not new_list and not new_default:
        return read_guide(ref.root, check=False)  # nothing asked
    dropped = [lang for lang in shown.languages if lang not in langs] if new_list else []

    def state(g: Guide) -> object:
        return (
            g.languages if new_list else None,
            g.default_language if new_default else None,
            _texts_in(g, dropped) if dropped else None,
        )

    what = " and ".join(
        x for x, changed in (("languages", new_list), ("default language", new_default)) if changed
    )

    def change(guide: Guide) -> None:
        if new_list:
            guide.languages = langs
        if new_default:
            guide.default_language = default
        keep = set(guide.languages)

        def prune(text: Text) -> None:
            for lang in list(text):
                if lang not in keep:
                    del text[lang]

        prune(guide.title)
        for c in guide.concepts:
            prune(c.name)
        for art in guide.artworks:
            for item in _parts_of(art):
                for _, text in texts(item):
                    prune(text)

    return edit_guide(ref, change, part=Part(f"the guide's {what}", state, plural=new_list))


def set_guide_title(ref: GuideRef, language: str, title: str) -> GuideRef:
    """The guide's own title in one language (refused if someone changed that title since the
    page was drawn; titles in other languages are merged)."""

    def change(guide: Guide) -> None:
        if title.strip():
            guide.title[language] = title.strip()
        else:
            guide.title.pop(language, None)

    part = Part(f"the guide's title ({language})", lambda g: g.title.get(language))
    return edit_guide(ref, change, part=part)


def _concept_part(concept_id: str) -> Part:
    def state(g: Guide) -> object:
        return next((c.name for c in g.concepts if c.id == concept_id), None)

    return Part(f"concept '{concept_id}'", state)


def set_concept(ref: GuideRef, concept_id: str, names: Text) -> GuideRef:
    """Add a concept, or rename one (names per language; empty names are dropped). Refused if the
    concept was added, renamed or removed by someone else since the page was drawn."""
    check_id(concept_id, "concept id")
    clean = {lang: n.strip() for lang, n in names.items() if n.strip()}

    def change(guide: Guide) -> None:
        for c in guide.concepts:
            if c.id == concept_id:
                c.name = clean
                return
        guide.concepts.append(Concept(concept_id, clean))

    return edit_guide(ref, change, part=_concept_part(concept_id))


def remove_concept(ref: GuideRef, concept_id: str) -> GuideRef:
    """Remove a concept; details that used it keep their names and boxes."""

    def change(guide: Guide) -> None:
        guide.concepts = [c for c in guide.concepts if c.id != concept_id]
        for art in guide.artworks:
            for d in art.details:
                if d.concept == concept_id:
                    d.concept = None

    try:
        return edit_guide(ref, change, part=_concept_part(concept_id))
    except StaleEditError:
        current = read_guide(ref.root, check=False)
        if _concept_part(concept_id).state(current.guide) is None:
            return current  # someone else removed it already: what was asked is done
        raise


def missing_translations(guide: Guide) -> list[str]:
    """'artwork / field: languages' for every text not yet translated into every language."""
    out = []
    for art in guide.artworks:
        for field in ("title", "description"):
            missing = [lang for lang in guide.languages if not getattr(art, field).get(lang)]
            if missing:
                out.append(f"{art.id} / {field}: {', '.join(missing)}")
        for d in art.details:
            missing = [lang for lang in guide.languages if not d.name.get(lang)]
            if missing:
                out.append(f"{art.id} / {d.id} name: {', '.join(missing)}")
    for c in guide.concepts:
        missing = [lang for lang in guide.languages if not c.name.get(lang)]
        if missing:
            out.append(f"concept {c.id}: {', '.join(missing)}")
    return out


def propose_boxes(recognizer, image: np.ndarray) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Pre-annotation: the details an existing recogniser finds in ``image``, with their boxes."""
    result = recognizer.recognize(image)
    return [(d.id, d.box) for d in result.details if d.box is not None]
