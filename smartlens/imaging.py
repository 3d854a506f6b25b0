"""Reading images and camera frames defensively.

Images come from curators' uploads and visitors' cameras: any of them may be empty, corrupt,
enormous or of an odd shape. Everything is checked here and turned into a plain BGR uint8
array, or an :class:`ImageError` with a message a person can act on. This is the one image
reader: every picture is read upright (its EXIF orientation applied), whatever reads it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .errors import ImageError

#: Smallest frame side worth looking at; smaller frames are rejected rather than guessed at.
MIN_SIDE = 16
#: EXIF orientations that turn the picture by 90 degrees (width and height swap).
_EXIF_TRANSPOSED = {5, 6, 7, 8}

__all__ = [
    "ImageError",
    "ImageLimits",
    "DEFAULT_LIMITS",
    "decode_image",
    "read_image",
    "image_size",
    "verify_image",
    "as_bgr",
    "fit_within",
    "encode_jpeg",
    "decode_for_work",
    "picture_type",
    "PICTURE_FORMATS",
    "MAX_SOURCE_PIXELS",
]

#: Largest picture accepted for downscaling to a working copy (museum scans run to 100 Mpx and more).
MAX_SOURCE_PIXELS = 160_000_000


@dataclass(frozen=True)
class ImageLimits:
    """Largest image accepted (pixels and bytes): guards against decompression bombs."""

    max_pixels: int = 40_000_000
    max_bytes: int = 60 * 1024 * 1024


DEFAULT_LIMITS = ImageLimits()

#: The picture formats a guide keeps (what the lens and every browser read), by Pillow's name ->
#: the extension they are stored under. Others (GIF, TIFF, HEIC...) are refused with a message.
PICTURE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp"}
#: File name extensions of each stored extension (``.jpeg`` is a JPEG too).
SAME_EXTENSION = {"jpeg": "jpg", "jpg": "jpg", "png": "png", "webp": "webp", "bmp": "bmp"}


def _check_header(data: bytes | Path, source: str, max_pixels: int) -> tuple[int, int]:
    """Read the upright width/height from the header without decoding (decompression-bomb guard)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
            width, height = im.size
            if im.getexif().get(0x0112) in _EXIF_TRANSPOSED:  # a phone photo taken upright
                width, height = height, width
    except Image.DecompressionBombError:
        raise ImageError(f"{source}: image too large (over {max_pixels / 1e6:.0f} Mpx)") from None
    except UnidentifiedImageError:
        raise ImageError(f"{source}: not an image file (unknown or corrupt format)") from None
    except Exception as exc:  # Pillow raises many kinds on truncated headers
        raise ImageError(f"{source}: unreadable image header ({exc})") from None
    if width * height > max_pixels:
        raise ImageError(
            f"{source}: image too large ({width}x{height} = {width * height / 1e6:.0f} Mpx; "
            f"the limit is {max_pixels / 1e6:.0f} Mpx)"
        )
    return width, height


def picture_type(data: bytes | Path, source: str = "image", max_pixels: int = MAX_SOURCE_PIXELS) -> str:
    """The extension a picture is stored under, from what its bytes are (its name is only a claim):
    ``jpg``, ``png``, ``webp`` or ``bmp``; an :class:`ImageError` for anything else."""
    from PIL import Image

    with warnings.catch_warnings():  # Pillow warns of big pictures; the limit is ours
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        _check_header(data, source, max_pixels)  # an image at all, and not a bomb
        with Image.open(io.BytesIO(data) if isinstance(data, bytes) else data) as im:
            found = str(im.format or "unknown")
    if found not in PICTURE_FORMATS:
        raise ImageError(f"{source}: a {found} image; use JPEG, PNG, WebP or BMP")
    return PICTURE_FORMATS[found]


def _check_bytes(size: int, source: str, limits: ImageLimits) -> None:
    if size > limits.max_bytes:
        raise ImageError(
            f"{source}: file too large ({size / 2**20:.0f} MiB; the limit is {limits.max_bytes / 2**20:.0f} MiB)"
        )


def decode_image(data: bytes, source: str = "image", limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Decode encoded image bytes (JPEG, PNG, WebP, ...) into an upright BGR uint8 array."""
    if not data:
        raise ImageError(f"{source}: empty file")
    _check_bytes(len(data), source, limits)
    _check_header(data, source, limits.max_pixels)
    # IMREAD_COLOR applies the EXIF orientation, as _check_header's size does
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ImageError(f"{source}: corrupt or truncated image data")
    return as_bgr(image, source, limits)


def read_image(path: Path | str, limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Read an image file into an upright BGR uint8 array, with a clear error if it cannot be used."""
    path = Path(path)
    if not _is_file(path):
        raise ImageError(f"{path}: no such image file")
    _check_bytes(path.stat().st_size, str(path), limits)
    return decode_image(path.read_bytes(), str(path), limits)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError as exc:  # a name too long for the file system, a permission...
        raise ImageError(f"{str(path)[:200]}: cannot be read ({exc.strerror or exc})") from None


def image_size(path: Path | str, limits: ImageLimits = DEFAULT_LIMITS) -> tuple[int, int]:
    """Upright (width, height) of an image file, read from its header only."""
    path = Path(path)
    if not _is_file(path):
        raise ImageError(f"{path}: no such image file")
    return _check_header(path, str(path), limits.max_pixels)


def verify_image(
    path: Path | str, limits: ImageLimits = DEFAULT_LIMITS, min_side: int = MIN_SIDE
) -> tuple[int, int]:
    """Decode a whole image file (truncated data fails here, not in the lens) and check that its
    upright size is at least ``min_side``; returns (width, height)."""
    from PIL import Image

    path = Path(path)
    if not _is_file(path):
        raise ImageError(f"{path}: no such image file")
    _check_bytes(path.stat().st_size, str(path), limits)
    width, height = _check_header(path, str(path), limits.max_pixels)
    try:
        with Image.open(path) as im:
            im.load()  # Pillow refuses truncated data that OpenCV would half-decode
    except Exception as exc:
        raise ImageError(f"{path}: corrupt or truncated image data ({exc})") from None
    if min(width, height) < min_side:
        raise ImageError(
            f"{path}: image too small ({width}x{height}); artworks need at least {min_side} pixels a side"
        )
    return width, height


def as_bgr(frame: np.ndarray, source: str = "frame", limits: ImageLimits = DEFAULT_LIMITS) -> np.ndarray:
    """Normalise any camera frame to contiguous BGR uint8 (grey, BGRA, float and odd strides too)."""
    if not isinstance(frame, np.ndarray):
        raise ImageError(f"{source}: expected an image array, got {type(frame).__name__}")
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[:, :, 0]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[2] not in (3, 4)):
        raise ImageError(f"{source}: unsupported image shape {frame.shape}")
    if min(frame.shape[:2]) < MIN_SIDE:
        raise ImageError(f"{source}: image too small ({frame.shape[1]}x{frame.shape[0]})")
    if frame.shape[0] * frame.shape[1] > limits.max_pixels:
        raise ImageError(f"{source}: image too large ({frame.shape[1]}x{frame.shape[0]})")
    if frame.dtype != np.uint8:
        if np.issubdtype(frame.dtype, np.floating):
            scale = 255.0 if float(np.nanmax(frame, initial=0.0)) <= 1.0 else 1.0
            frame = np.nan_to_num(frame * scale)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    elif frame.shape[2] == 4:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(frame)


def fit_within(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; returns (image, scale applied)."""
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return image, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of a BGR image."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ImageError("could not encode JPEG")
    return buf.tobytes()


def decode_for_work(
    data: bytes,
    source: str,
    max_side: int,
    limits: ImageLimits = DEFAULT_LIMITS,
    max_source_pixels: int = MAX_SOURCE_PIXELS,
) -> tuple[np.ndarray, tuple[int, int]]:
    """An upright BGR working copy of an uploaded picture, at most ``max_side`` a side, and the
    picture's own upright (width, height).

    Pictures over ``limits.max_pixels`` (up to ``max_source_pixels``) are accepted here, unlike
    :func:`decode_image`: a JPEG is decoded at a reduced size straight away (libjpeg's DCT
    scaling), so a 100 Mpx scan never sits in memory whole; other formats are decoded, then scaled.
    """
    from PIL import Image, ImageOps

    if not data:
        raise ImageError(f"{source}: empty file")
    _check_bytes(len(data), source, limits)
    with warnings.catch_warnings():  # Pillow warns of big pictures; the limit is ours
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        width, height = _check_header(data, source, max_source_pixels)
    if width * height <= limits.max_pixels:
        image, _ = fit_within(decode_image(data, source, limits), max_side)
        return image, (width, height)
    old_limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = max_source_pixels  # checked above: not a bomb, just big
        with Image.open(io.BytesIO(data)) as im:
            if im.format == "JPEG":
                im.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 size
            im.load()
            upright = ImageOps.exif_transpose(im).convert("RGB")
    except ImageError:
        raise
    except Exception as exc:
        raise ImageError(f"{source}: corrupt or truncated image data ({exc})") from None
    finally:
        Image.MAX_IMAGE_PIXELS = old_limit
    rgb = np.asarray(upright)
    image, _ = fit_within(np.ascontiguousarray(rgb[:, :, ::-1]), max_side)
    return as_bgr(image, source, limits), (width, height)
