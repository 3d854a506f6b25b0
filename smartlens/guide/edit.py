"""Edits curators make in the studio: each one read-modify-write under the guide's lock.

Every edit takes the guide's lock, reads the guide as it is on disk now and applies the change
to that copy, so two curators editing different artworks never overwrite each other. An edit
made from a page showing an older copy of the artwork it changes (someone else saved that
artwork since) is refused with :class:`StaleEditError` rather than applied over newer data.
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import GuideError, StaleEditError
from ..geometry import int_box
from ..imaging import DEFAULT_LIMITS, ImageLimits, decode_for_work, encode_jpeg
from ..storage import check_id, slugify
from .lock import DEFAULT_TIMEOUT, guide_lock
from .model import Artwork, Concept, Detail, Guide, Text
from .store import GuideRef, read_guide, update_locked

Change = Callable[[Guide], "dict[str, Path] | None"]


def _artwork_state(guide: Guide, artwork_id: str) -> dict | None:
    for a in guide.to_dict()["artworks"]:
        if a["id"] == artwork_id:
            return a
    return None


def edit_guide(
    ref: GuideRef,
    change: Change,
    artwork_id: str | None = None,
    limits: ImageLimits = DEFAULT_LIMITS,
    timeout: float = DEFAULT_TIMEOUT,
) -> GuideRef:
    """Apply ``change`` to the guide as it is on disk now, under its lock, and save it.

    ``change`` edits the guide it is given and returns the new media files (relative path ->
    file) or None. With ``artwork_id``, the edit is refused if that artwork differs on disk from
    the caller's copy (``ref``): someone else changed it since the caller's page was drawn.
    """
    with guide_lock(ref.root, timeout):
        current = read_guide(ref.root, limits, check=False)
        if artwork_id is not None and current.revision != ref.revision:
            mine, theirs = _artwork_state(ref.guide, artwork_id), _artwork_state(current.guide, artwork_id)
            if mine != theirs:
                what = "removed" if theirs is None else "changed"
                raise StaleEditError(
                    f"artwork '{artwork_id}' was {what} by someone else since this page was loaded; "
                    "reload the guide and make your change again (nothing was saved)"
                )
        guide = copy.deepcopy(current.guide)
        files = change(guide)
        return update_locked(ref.root, guide, current.guide, files, limits)


#: Picture formats an upload may be in.
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
    as the artwork's ``original``.
    """
    image, (w0, h0) = decode_for_work(data, filename, max_side, limits)
    h, w = image.shape[:2]
    base = slugify(title or Path(filename).stem, "artwork")
    suffix = Path(filename).suffix.lower().lstrip(".")
    keep_original = w0 * h0 > limits.max_pixels
    if keep_original and suffix not in UPLOAD_TYPES:
        suffix = "jpg"
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
                art.original = f"originals/{art_id}.{suffix}"
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


def set_details(
    ref: GuideRef,
    artwork_id: str,
    details: list[DetailRow] | list[tuple[str, tuple[float, float, float, float], str, str, str | None]],
    language: str,
) -> GuideRef:
    """Replace an artwork's details by (id, box, name, description[, concept]) in ``language``;
    texts in other languages are kept for details that keep their id. A detail with a concept and
    no name of its own is named after the concept (in every language the concept has)."""
    for row in details:
        check_id(row[0], "detail id")
    ids = [row[0] for row in details]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise GuideError(
            [f"detail id {i!r} is used by two boxes: give each box its own id" for i in twice],
            f"artwork {artwork_id!r}",
        )

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


#: Media a detail may have, and the file types each kind accepts.
MEDIA_TYPES = {
    "audio": ("mp3", "m4a", "ogg", "wav"),
    "video": ("mp4", "webm"),
    "picture": UPLOAD_TYPES,
}
#: Largest audio or video file accepted (the studio's upload limit is 200 MB).
MAX_MEDIA_BYTES = 150 * 2**20
#: Longest side of a detail's picture as stored (the lens shows it on a phone).
PICTURE_SIDE = 720


def _media_format(data: bytes) -> str | None:
    """What a media file's first bytes say it is (its extension is only a claim)."""
    if data[:4] == b"OggS":
        return "ogg"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    if data[4:8] == b"ftyp":
        return "mp4"  # an ISO media file: mp4 video or m4a audio
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    return None


def set_detail_media(
    ref: GuideRef,
    artwork_id: str,
    detail_id: str,
    kind: str,
    language: str | None,
    data: bytes | None,
    filename: str = "",
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Attach a detail's audio or video in ``language``, or its picture (one for all languages);
    ``data`` None removes it.

    The upload's name is read only for its extension: the file is stored under
    ``media/<artwork>/`` with a name made of the ids and a hash of its content, after checking
    that its bytes are of the kind claimed (a picture is decoded, turned upright and re-encoded).
    The file it replaces is deleted once the guide is saved.
    """
    if kind not in MEDIA_TYPES:
        raise GuideError([f"media kind {kind!r}: expected one of {', '.join(MEDIA_TYPES)}"], "upload")
    where = f"artwork '{artwork_id}', detail '{detail_id}', {kind}"
    if kind != "picture" and not language:
        raise GuideError([f"{where}: say which language it is in"], "upload")
    suffix = Path(filename).suffix.lower().lstrip(".")
    with tempfile.TemporaryDirectory() as tmp:
        rel: str | None = None
        files: dict[str, Path] = {}
        if data is not None:
            if suffix not in MEDIA_TYPES[kind]:
                raise GuideError(
                    [f"{where}: {Path(filename).name[:80]!r} is not one of {', '.join(MEDIA_TYPES[kind])}"],
                    "upload",
                )
            token = hashlib.sha256(data).hexdigest()[:10]
            if kind == "picture":
                image, _ = decode_for_work(data, filename, PICTURE_SIDE, limits)
                payload, ext = encode_jpeg(image, 90), "jpg"
            else:
                if not data:
                    raise GuideError([f"{where}: the file is empty"], "upload")
                if len(data) > MAX_MEDIA_BYTES:
                    raise GuideError(
                        [
                            f"{where}: file too large ({len(data) / 2**20:.0f} MiB; the limit is "
                            f"{MAX_MEDIA_BYTES / 2**20:.0f} MiB)"
                        ],
                        "upload",
                    )
                found = _media_format(data)
                # what each kind accepts, by what the bytes are -> the extension stored
                stored = (
                    {"mp3": "mp3", "ogg": "ogg", "wav": "wav", "mp4": "m4a"}
                    if kind == "audio"
                    else {"mp4": "mp4", "webm": "webm"}
                )
                if found not in stored:
                    raise GuideError(
                        [
                            f"{where}: {Path(filename).name[:80]!r} is not the {kind} file its name "
                            f"says (expected {', '.join(MEDIA_TYPES[kind])})"
                        ],
                        "upload",
                    )
                payload, ext = data, stored[found]
            lang_part = f"-{slugify(language or '', 'all')}" if kind != "picture" else ""
            name = f"{check_id(detail_id, 'detail id')[:60]}-{kind}{lang_part}-{token}.{ext}"
            rel = f"media/{check_id(artwork_id, 'artwork id')}/{name}"
            path = Path(tmp) / "media"
            path.write_bytes(payload)
            files[rel] = path

        def change(guide: Guide) -> dict[str, Path]:
            det = guide.artwork(artwork_id).detail(detail_id)
            if kind == "picture":
                det.icon = rel
            else:
                text = getattr(det, kind)
                if rel is None:
                    text.pop(language or "", None)
                else:
                    text[language or ""] = rel
            return files

        try:
            return edit_guide(ref, change, artwork_id, limits)
        except KeyError as exc:
            raise GuideError([f"{where}: {exc.args[0]} (save the details first)"], "upload") from None


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


def set_languages(ref: GuideRef, languages: list[str], default: str) -> GuideRef:
    """The guide's languages and default language (texts in a dropped language are removed)."""
    langs = [x.strip() for x in languages if x.strip()]

    def change(guide: Guide) -> None:
        guide.languages, guide.default_language = langs, default
        keep = set(langs)

        def prune(text: Text) -> None:
            for lang in list(text):
                if lang not in keep:
                    del text[lang]

        prune(guide.title)
        for c in guide.concepts:
            prune(c.name)
        for art in guide.artworks:
            for text in (art.title, art.author, art.year, art.description, art.audio, art.video):
                prune(text)
            for d in art.details:
                for text in (d.name, d.description, d.audio, d.video):
                    prune(text)

    return edit_guide(ref, change)


def set_guide_title(ref: GuideRef, language: str, title: str) -> GuideRef:
    """The guide's own title in one language."""

    def change(guide: Guide) -> None:
        if title.strip():
            guide.title[language] = title.strip()
        else:
            guide.title.pop(language, None)

    return edit_guide(ref, change)


def set_concept(ref: GuideRef, concept_id: str, names: Text) -> GuideRef:
    """Add a concept, or rename one (names per language; empty names are dropped)."""
    check_id(concept_id, "concept id")
    clean = {lang: n.strip() for lang, n in names.items() if n.strip()}

    def change(guide: Guide) -> None:
        for c in guide.concepts:
            if c.id == concept_id:
                c.name = clean
                return
        guide.concepts.append(Concept(concept_id, clean))

    return edit_guide(ref, change)


def remove_concept(ref: GuideRef, concept_id: str) -> GuideRef:
    """Remove a concept; details that used it keep their names and boxes."""

    def change(guide: Guide) -> None:
        guide.concepts = [c for c in guide.concepts if c.id != concept_id]
        for art in guide.artworks:
            for d in art.details:
                if d.concept == concept_id:
                    d.concept = None

    return edit_guide(ref, change)


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
