"""Real negative pictures: what a museum camera sees when it is not on a guide artwork.

Procedural negatives (walls, rooms, generated pictures) are unlike what a visitor's phone
mostly frames between artworks: other real paintings, the rooms, people. Curators put such
photos in the guide's ``negatives/`` folder (photos of the rooms, other works of the
collection); more folders can be named at training time (``train --negatives-dir DIR``).
Both learned methods train their reject class and calibrate their thresholds on them. Pictures
in a ``check/`` sub-folder are kept for the report alone: never trained or calibrated on, they
hang on the report views' walls and are its negatives, so the report tells how a model does
beside works it never met, as the lens will.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import UserError
from ..guide import GuideRef
from ..imaging import DEFAULT_LIMITS, ImageLimits, image_size

#: The folder of a guide where curators put their negative pictures.
NEGATIVES_DIR = "negatives"
#: The sub-folder of a negatives folder whose pictures only the report uses.
CHECK_DIR = "check"
#: Picture files looked for (by suffix, case-insensitive).
SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def negatives_dir(ref: GuideRef) -> Path:
    """``<guide root>/negatives/``: the curators' negative pictures (may not exist)."""
    return ref.root / NEGATIVES_DIR


def _pictures_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.suffix.lower() in SUFFIXES
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def negative_pictures(
    ref: GuideRef, extra_dirs: Iterable[Path | str] = (), limits: ImageLimits = DEFAULT_LIMITS
) -> list[Path]:
    """Every picture of the guide's ``negatives/`` folder and of ``extra_dirs``, sorted, without
    repeats. Each is checked through the one image reader's header check, so a file that cannot
    be used is refused here with its name, not half-way through a training run."""
    folders = [negatives_dir(ref)] + [Path(d) for d in extra_dirs]
    found: list[Path] = []
    for i, folder in enumerate(folders):
        if not folder.is_dir():
            if i == 0:
                continue  # a guide without curator negatives
            raise UserError(f"negatives folder {folder} does not exist")
        found += _pictures_in(folder)
    unique = sorted({p.resolve() for p in found})
    for p in unique:
        image_size(p, limits)  # raises an ImageError (a UserError) naming the file
    return unique


def split_pictures(pictures: Sequence[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """(pictures for training, for validation, for the report): with three or more, they are dealt
    in turn (training, validation, report, training), so the thresholds and the gate are set,
    and the figures measured, on real pictures the model never trained on; with fewer, every
    role uses all of them (different views of each)."""
    pictures = list(pictures)
    if len(pictures) < 3:
        return pictures, pictures, pictures
    role = [("train", "validation", "report", "train")[i % 4] for i in range(len(pictures))]
    return tuple(
        [p for p, r in zip(pictures, role) if r == want] for want in ("train", "validation", "report")
    )  # type: ignore[return-value]


def negative_roles(
    ref: GuideRef, extra_dirs: Iterable[Path | str] = (), limits: ImageLimits = DEFAULT_LIMITS
) -> tuple[list[Path], list[Path], list[Path]]:
    """The real negative pictures of a training by role (training, validation, report): those of
    the folders' ``check/`` sub-folders go to the report alone; the others are dealt by
    :func:`split_pictures` (with fewer than three, every role uses all of them)."""
    folders = [negatives_dir(ref)] + [Path(d) for d in extra_dirs]
    kept = {p.resolve() for f in folders for p in _kept_for_checking(f)}
    pictures = negative_pictures(ref, extra_dirs, limits)
    train, validation, report = split_pictures([p for p in pictures if p not in kept])
    return train, validation, report + sorted(kept)


def count_negative_pictures(ref: GuideRef) -> tuple[int, int]:
    """(pictures of the guide's ``negatives/`` folder that trainings use, those kept for checking
    in its ``check/`` sub-folder), for the studio to show."""
    root = negatives_dir(ref)
    if not root.is_dir():
        return 0, 0
    kept = len(_kept_for_checking(root))
    return len(_pictures_in(root)) - kept, kept


def _kept_for_checking(folder: Path) -> list[Path]:
    """The pictures of a negatives folder's ``check/`` sub-folder (none when it has none)."""
    return _pictures_in(folder / CHECK_DIR) if (folder / CHECK_DIR).is_dir() else []


def pictures_key(pictures: Iterable[Path]) -> list[list]:
    """What identifies a set of pictures for caching views made of them: name, size, mtime."""
    out = []
    for p in pictures:
        st = Path(p).stat()
        out.append([str(p), st.st_size, st.st_mtime_ns])
    return out
