"""Edits curators make in the studio: each one read-modify-write under the guide's lock.

Every edit takes the guide's lock, reads the guide as it is on disk now and applies the change
to that copy, so two curators editing different artworks never overwrite each other. An edit
made from a page showing an older copy of the artwork it changes (someone else saved that
artwork since) is refused with :class:`StaleEditError` rather than applied over newer data.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import StaleEditError
from ..geometry import int_box
from ..imaging import DEFAULT_LIMITS, ImageLimits, decode_image, encode_jpeg, fit_within
from ..storage import check_id, slugify
from .lock import DEFAULT_TIMEOUT, guide_lock
from .model import Artwork, Detail, Guide
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


def add_artwork(
    ref: GuideRef,
    data: bytes,
    filename: str,
    title: str,
    language: str,
    max_side: int = 2400,
    limits: ImageLimits = DEFAULT_LIMITS,
) -> GuideRef:
    """Add an uploaded picture as a new artwork (decoded and re-encoded: no foreign bytes kept)."""
    image, _ = fit_within(decode_image(data, filename, limits), max_side)
    h, w = image.shape[:2]
    base = slugify(title or Path(filename).stem, "artwork")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "image.jpg"
        path.write_bytes(encode_jpeg(image, 92))

        def change(guide: Guide) -> dict[str, Path]:
            # the id is chosen against the guide as saved now, not the caller's older copy
            art_id, n = base, 2
            while any(a.id == art_id for a in guide.artworks):
                art_id, n = f"{base}-{n}", n + 1
            rel = f"images/{art_id}.jpg"
            guide.artworks.append(Artwork(art_id, rel, w, h, title={language: title or art_id}))
            return {rel: path}

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


def set_details(
    ref: GuideRef,
    artwork_id: str,
    details: list[tuple[str, tuple[int, int, int, int], str, str]],
    language: str,
) -> GuideRef:
    """Replace an artwork's details by (id, box, name, description) in ``language``; texts in
    other languages are kept for details that keep their id."""
    for det_id, _, _, _ in details:
        check_id(det_id, "detail id")

    def change(guide: Guide) -> None:
        art = guide.artwork(artwork_id)
        old = {d.id: d for d in art.details}
        new = []
        for det_id, box, name, description in details:
            d = copy.deepcopy(old.get(det_id)) or Detail(det_id, box)
            d.box = int_box(box)
            if name:
                d.name[language] = name
            if description:
                d.description[language] = description
            new.append(d)
        art.details = new

    return edit_guide(ref, change, artwork_id)


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
    return out


def propose_boxes(recognizer, image: np.ndarray) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Pre-annotation: the details an existing recogniser finds in ``image``, with their boxes."""
    result = recognizer.recognize(image)
    return [(d.id, d.box) for d in result.details if d.box is not None]
