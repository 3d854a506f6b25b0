"""What an uploaded or imported file really is, found by reading it, never by its name.

Pictures are read by the one image reader (:mod:`.imaging`); audio and video are opened with
PyAV (FFmpeg) and must hold a stream of the expected kind, with a duration, whose first frames
decode; captions must be WebVTT text. :func:`identify` returns the extension the file is stored
under, or raises a :class:`~smartlens.errors.UserError` saying what the file is instead.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from .errors import MediaError
from .imaging import MAX_SOURCE_PIXELS, picture_type

#: The kinds of media a guide holds.
KINDS = ("picture", "audio", "video", "captions")
#: The extensions each kind is stored under (what the studio's uploaders offer).
EXTENSIONS = {
    "picture": ("jpg", "png", "webp", "bmp"),
    "audio": ("mp3", "m4a", "ogg", "wav"),
    "video": ("mp4", "webm"),
    "captions": ("vtt",),
}
#: Largest audio or video file accepted (the studio's upload limit is 200 MB).
MAX_MEDIA_BYTES = 150 * 2**20
#: Largest captions file accepted (hours of subtitles are a few hundred kilobytes).
MAX_CAPTIONS_BYTES = 2**20
#: FFmpeg's container names -> the extension stored, per kind.
_CONTAINERS = {
    "audio": {"mp3": "mp3", "ogg": "ogg", "wav": "wav", "mov,mp4,m4a,3gp,3g2,mj2": "m4a"},
    "video": {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "matroska,webm": "webm"},
}
_WEBVTT = re.compile(r"\AWEBVTT(?:[ \t][^\r\n]*)?(?:\r\n|\r|\n|\Z)")


def _read(data: bytes | Path, source: str, limit: int) -> bytes:
    if isinstance(data, Path):
        size = data.stat().st_size
        if size > limit:
            _too_large(size, source, limit)
        data = data.read_bytes()
    if not data:
        raise MediaError(f"{source}: the file is empty")
    if len(data) > limit:
        _too_large(len(data), source, limit)
    return data


def _too_large(size: int, source: str, limit: int) -> None:
    unit, scale = ("MiB", 2**20) if limit >= 2**20 else ("KiB", 2**10)
    raise MediaError(
        f"{source}: file too large ({size / scale:.0f} {unit}; the limit is {limit / scale:.0f} {unit})"
    )


def check_captions(data: bytes | Path, source: str = "captions") -> str:
    """``vtt`` if ``data`` is a WebVTT file (UTF-8, first line ``WEBVTT``), else a MediaError."""
    raw = _read(data, source, MAX_CAPTIONS_BYTES)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MediaError(f"{source}: not a WebVTT captions file (not UTF-8 text)") from None
    if not _WEBVTT.match(text.removeprefix("\ufeff")) or "\x00" in text:
        raise MediaError(f"{source}: not a WebVTT captions file (the first line must be WEBVTT)")
    return "vtt"


def probe(data: bytes | Path, kind: str, source: str = "media") -> str:
    """The extension an audio or video file is stored under: its container must be one the lens
    plays, hold a ``kind`` stream with a duration, and its first frames must decode."""
    import av

    raw = _read(data, source, MAX_MEDIA_BYTES)
    wanted = _CONTAINERS[kind]
    expected = f"{', '.join(EXTENSIONS[kind][:-1])} or {EXTENSIONS[kind][-1]}"
    article = "an" if kind == "audio" else "a"
    try:
        with av.open(io.BytesIO(raw), "r") as container:
            ext = wanted.get(container.format.name)
            if ext is None:
                raise MediaError(
                    f"{source}: its container is {container.format.long_name or container.format.name}, "
                    f"not one the lens plays for {kind} ({expected})"
                )
            streams = [
                s
                for s in container.streams
                if s.type == kind and not (s.disposition & av.stream.Disposition.attached_pic)
            ]
            if not streams:
                raise MediaError(f"{source}: holds no {kind} ({article} {kind} file in {expected} expected)")
            stream = streams[0]
            seconds = (
                float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            )
            if seconds <= 0 and container.duration:
                seconds = container.duration / av.time_base
            if seconds <= 0:
                raise MediaError(f"{source}: its {kind} has no duration (a still picture, or a damaged file)")
            decoded = 0
            for _ in container.decode(stream):
                decoded += 1
                if decoded >= 2:
                    break
            if not decoded:
                raise MediaError(f"{source}: its {kind} does not decode (a damaged file)")
    except MediaError:
        raise
    except (av.error.FFmpegError, EOFError, ValueError, IndexError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise MediaError(
            f"{source}: not {article} {kind} file the lens plays ({expected}); FFmpeg says: {reason[:80]}"
        ) from None
    return ext


def identify(kind: str, data: bytes | Path, source: str = "file") -> str:
    """The extension a file of ``kind`` (picture, audio, video, captions) is stored under, found by
    reading it; a :class:`UserError` when it is not such a file."""
    if kind == "picture":
        if isinstance(data, bytes) and not data:
            raise MediaError(f"{source}: the file is empty")
        return picture_type(data, source, MAX_SOURCE_PIXELS)
    if kind == "captions":
        return check_captions(data, source)
    if kind in _CONTAINERS:
        return probe(data, kind, source)
    raise MediaError(f"{source}: unknown kind of media {kind!r} (expected one of {', '.join(KINDS)})")
