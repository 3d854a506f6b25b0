"""QR codes of the lens address, for the museum to print next to the artworks."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UserError
from .storage import atomic_write_bytes

#: Longest address accepted: a QR code holds about 2,300 characters at error level M, and one that
#: full is too dense for a phone to read from a printed label anyway.
MAX_URL_CHARS = 2000
#: Pixels per QR module, at most (a scale of 40 already makes a PNG over 7,000 pixels wide).
MAX_SCALE = 40
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")


def check_url(url: str) -> str:
    """``url`` if it is an address a phone can open: http(s), a host, no spaces, not too long."""
    if not url or not url.strip():
        raise UserError("the address is empty")
    if len(url) > MAX_URL_CHARS:
        raise UserError(
            f"the address is {len(url):,} characters long: a QR code a phone can read holds at most "
            f"{MAX_URL_CHARS:,}"
        )
    if _SPACE_OR_CONTROL.search(url):
        raise UserError("the address contains spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"{url!r} is not a web address (like https://192.168.1.20:8501/)")
    return url


def qr_bytes(url: str, kind: str = "png", scale: int = 10) -> bytes:
    """The QR code of ``url`` as PNG or SVG bytes."""
    import io

    import segno

    check_url(url)
    if not 1 <= scale <= MAX_SCALE:
        raise UserError(f"the scale must be 1 to {MAX_SCALE} pixels per module, not {scale}")
    buf = io.BytesIO()
    try:
        segno.make(url, error="m").save(buf, kind=kind, scale=scale, border=4)
    except segno.DataOverflowError:
        raise UserError(f"the address is too long for a QR code ({len(url):,} characters)") from None
    return buf.getvalue()


def write_qr(url: str, out: Path, scale: int = 10) -> Path:
    """Write the QR code of ``url`` to ``out`` (.png or .svg, from the suffix), in a folder that
    exists already (a mistyped folder is refused, not created)."""
    out = Path(out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise UserError(f"{out}: the QR code file must end in .png or .svg")
    if out.is_dir():
        raise UserError(f"{out} is a folder: give a file name ending in .{kind}")
    if not out.parent.is_dir():
        raise UserError(f"{out.parent} is not a folder (it is not created: check the path)")
    return atomic_write_bytes(out, qr_bytes(url, kind, scale))
