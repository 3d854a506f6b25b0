"""QR codes of the lens address, for the museum to print next to the artworks."""

from __future__ import annotations

from pathlib import Path

from .errors import UserError
from .storage import atomic_write_bytes


def qr_bytes(url: str, kind: str = "png", scale: int = 10) -> bytes:
    """The QR code of ``url`` as PNG or SVG bytes."""
    import io

    import segno

    if not url.strip():
        raise UserError("the URL is empty")
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind=kind, scale=scale, border=4)
    return buf.getvalue()


def write_qr(url: str, out: Path, scale: int = 10) -> Path:
    """Write the QR code of ``url`` to ``out`` (.png or .svg, from the suffix)."""
    out = Path(out)
    kind = out.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise UserError(f"{out}: the QR code file must end in .png or .svg")
    return atomic_write_bytes(out, qr_bytes(url, kind, scale))
