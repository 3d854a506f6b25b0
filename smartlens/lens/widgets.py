"""The lens page's own widgets, as Streamlit custom components (v2, in the page's DOM, no iframe).

- :func:`media_player`: a named button that plays the museum's audio or video (captions on the
  video, a transcript under the audio) or reads a text aloud with the browser's voice; it
  answers which kind of playback really started, so only heard media are counted;
- :func:`announce`: a polite live region, so screen readers say what was recognised, once.

The players keep their media elements across reruns: a card redrawn around a playing audio does
not stop it. Only the lens app imports this module (it needs a running Streamlit page).
"""

from __future__ import annotations

import mimetypes
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

import streamlit as st

_WEB = Path(__file__).with_name("web")
#: What the player answers (its ``played`` value) -> the event logged.
PLAYED_EVENTS = {"audio": "audio_played", "video": "video_played", "speech": "tts_played"}
#: Types Python's table may lack or get wrong on some systems.
_TYPES = {".vtt": "text/vtt", ".m4a": "audio/mp4", ".ogg": "audio/ogg", ".webm": "video/webm"}

_CSS = """
.sl-media {margin: 0.25rem 0 0.75rem 0;}
.sl-media-button {font: inherit; font-size: 1rem; width: 100%; min-height: 2.75rem; padding: 0.5rem 1rem;
  border-radius: 0.5rem; border: 1px solid #6b6b6b; background: #fff; color: #1f1f1f; cursor: pointer;}
.sl-media-button:focus-visible {outline: 3px solid #1a5fb4; outline-offset: 2px;}
.sl-media-element {display: block; width: 100%; margin-top: 0.5rem;}
.sl-media-element[hidden] {display: none;}
.sl-media-status:empty {display: none;}
.sl-media-status {color: #8a1c1c; margin: 0.25rem 0 0 0;}
.sl-transcript {margin-top: 0.5rem;}
.sl-transcript summary {cursor: pointer; min-height: 2rem;}
.sl-live {position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0;}
"""


@dataclass(frozen=True)
class Track:
    """A captions file of a video, in one language."""

    src: str
    srclang: str
    label: str


@dataclass(frozen=True)
class Playback:
    """What one player offers: ``kind`` "audio" or "video" with ``src``, or "speech" with ``text``."""

    kind: str
    label: str  # the button's text, e.g. "Listen"
    name: str  # the media element's accessible name, e.g. "Audio: The smile"
    failed: str  # said when the browser cannot play or speak
    src: str = ""
    text: str = ""
    lang: str = ""
    tracks: tuple[Track, ...] = field(default=())
    transcript: str = ""
    transcript_label: str = ""


@cache
def _components():
    """The two components, registered once per server process."""
    player = st.components.v2.component(
        "smartlens.media_player",
        js=(_WEB / "player.js").read_text(encoding="utf-8"),
        css=_CSS,
        isolate_styles=False,  # in the page's DOM: screen readers, keyboard and axe see one page
    )
    region = st.components.v2.component(
        "smartlens.announce",
        js=(_WEB / "announce.js").read_text(encoding="utf-8"),
        css=_CSS,
        isolate_styles=False,
    )
    return player, region


def media_url(path: Path) -> str:
    """A URL the page can load ``path`` from, served by Streamlit's media file manager (what
    ``st.audio`` and ``st.video`` use; the same file gets the same URL at every rerun)."""
    from streamlit.runtime import Runtime

    mimetype = (
        _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )
    return Runtime.instance().media_file_mgr.add(str(path), mimetype, f"smartlens-media:{path}")


def media_player(playback: Playback, key: str) -> str | None:
    """Draw a player; the event type to log when playback started since the last run, else None."""
    player, _ = _components()
    data = asdict(playback)
    data["tracks"] = [asdict(t) for t in playback.tracks]
    result = player(key=key, data=data, on_played_change=lambda: None)
    return PLAYED_EVENTS.get(str(result.played)) if result.played else None


def announce(text: str, key: str = "announce") -> None:
    """Set the live region's text (screen readers read it when it changes)."""
    _, region = _components()
    region(key=key, data={"text": text})
