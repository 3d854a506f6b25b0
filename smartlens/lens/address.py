"""Where this machine's lens answers: written by ``smartlens lens`` as it starts, read by the
studio, whose QR codes then carry the lens' real scheme, address and port."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode

from ..config import Settings
from ..storage import atomic_write_json

FILE = "lens-address.json"


@dataclass(frozen=True)
class LensAddress:
    scheme: str  # "http" or "https"
    hosts: list[str]  # the addresses phones can reach it at
    port: int


def record_lens_address(settings: Settings, address: LensAddress) -> Path:
    """Remember where the lens listens (the last one started with this data folder)."""
    return atomic_write_json(settings.data / FILE, asdict(address))


def read_lens_address(settings: Settings) -> LensAddress | None:
    """Where the lens was last started, or None (never started here, or an unreadable file)."""
    try:
        raw = json.loads((settings.data / FILE).read_text(encoding="utf-8"))
        address = LensAddress(str(raw["scheme"]), [str(h) for h in raw["hosts"]], int(raw["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return address if address.scheme in ("http", "https") and address.hosts else None


def lens_url(scheme: str, host: str, port: int, guide: str, language: str | None = None) -> str:
    """The lens' address opening ``guide`` (in ``language``, else the phone's own)."""
    query = {"guide": guide, **({"lang": language} if language else {})}
    return f"{scheme}://{host}:{port}/?{urlencode(query)}"
