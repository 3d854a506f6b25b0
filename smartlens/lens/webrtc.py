"""WebRTC settings for the lens: a museum LAN needs no STUN; deployments may add STUN/TURN."""

from __future__ import annotations

from ..config import Settings


def ice_servers(settings: Settings) -> list[dict]:
    """ICE servers from the ``ice_servers`` setting (comma separated URLs; empty = LAN only).

    With none, peers use their host candidates: enough when phone and server share a network,
    and nothing is asked of the internet. ``turn:`` URLs may carry credentials as
    ``turn:user:password@host:port``.
    """
    raw = settings.ice_servers.strip()
    servers: list[dict] = []
    for url in filter(None, (u.strip() for u in raw.split(","))):
        if url.startswith(("turn:", "turns:")) and "@" in url:
            scheme, rest = url.split(":", 1)
            creds, host = rest.rsplit("@", 1)
            user, _, password = creds.partition(":")
            servers.append({"urls": [f"{scheme}:{host}"], "username": user, "credential": password})
        else:
            servers.append({"urls": [url]})
    return servers


def rtc_configuration(settings: Settings) -> dict:
    """streamlit-webrtc's ``rtc_configuration`` for these settings."""
    return {"iceServers": ice_servers(settings)}


#: The phone's rear camera at a resolution recognition needs and a phone encodes cheaply.
MEDIA_CONSTRAINTS = {
    "video": {
        "facingMode": {"ideal": "environment"},
        "width": {"ideal": 640},
        "height": {"ideal": 480},
        "frameRate": {"ideal": 15, "max": 30},
    },
    "audio": False,
}
