"""The museum guide: its model, rules, storage, edits, formats and the built-in demo.

- :mod:`.model`: the plain dataclasses (guide, artwork, detail, texts per language);
- :mod:`.rules`: what a valid guide is (without files);
- :mod:`.store`: guide folders on disk (load, validate with files, save atomically, backups,
  restore, fingerprint);
- :mod:`.lock`: one writer at a time per guide, across processes;
- :mod:`.edit`: the curators' edits (read-modify-write under the lock, stale edits refused);
- :mod:`.formats`: import and export (the paintings format, COCO);
- :mod:`.demo`: the built-in demo guide.
"""

from __future__ import annotations

from ..errors import GuideError
from .model import FORMAT, Artwork, Detail, Guide, Text
from .store import GUIDE_FILE, GuideRef, fingerprint, guide_dir, list_guides, load_guide, save_guide, validate

__all__ = [
    "FORMAT",
    "GUIDE_FILE",
    "Artwork",
    "Detail",
    "Guide",
    "GuideError",
    "GuideRef",
    "Text",
    "fingerprint",
    "guide_dir",
    "list_guides",
    "load_guide",
    "save_guide",
    "validate",
]
