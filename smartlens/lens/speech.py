"""Read-aloud text: gTTS when its service is reachable (MP3s cached per text and language),
otherwise the browser's own speech synthesis, so reading aloud always works offline."""

from __future__ import annotations

import hashlib
import html
import json
import logging
import socket
import threading
import time
from pathlib import Path

from ..config import Settings
from ..storage import atomic_write_bytes

log = logging.getLogger("smartlens.speech")
_HOST = ("translate.google.com", 443)


class Speech:
    """Read-aloud for one lens process: gTTS MP3s cached on disk, and whether gTTS's service
    answers (asked at most every ``ttl`` seconds, never hanging a visitor's page)."""

    def __init__(self, settings: Settings, probe_timeout: float = 1.5, ttl: float = 300.0):
        self.settings = settings
        self.probe_timeout, self.ttl = probe_timeout, ttl
        self._checked = 0.0
        self._ok = False
        self._lock = threading.Lock()

    def reachable(self) -> bool:
        """Whether gTTS's service answers (offline settings: never asked)."""
        if self.settings.offline:
            return False
        with self._lock:
            if self._checked and time.monotonic() - self._checked < self.ttl:
                return self._ok
            try:
                socket.create_connection(_HOST, timeout=self.probe_timeout).close()
                self._ok = True
            except OSError:
                self._ok = False
            self._checked = time.monotonic()
            return self._ok

    def cache_path(self, text: str, language: str) -> Path:
        key = hashlib.sha256(f"{language}\n{text}".encode()).hexdigest()[:24]
        return self.settings.cache / "tts" / f"{language}-{key}.mp3"

    def synthesize(self, text: str, language: str, timeout: float = 8.0) -> Path | None:
        """An MP3 of ``text`` read in ``language``, from the cache or gTTS; None when unavailable."""
        path = self.cache_path(text, language)
        if path.is_file():
            return path
        if not text.strip() or not self.reachable():
            return None
        try:
            import io

            from gtts import gTTS

            buf = io.BytesIO()
            gTTS(text, lang=language.split("-")[0], lang_check=False, timeout=timeout).write_to_fp(buf)
            return atomic_write_bytes(path, buf.getvalue())
        except Exception as exc:  # offline, rate limited, unknown language: fall back to the browser
            log.info("gTTS unavailable (%s): the browser will read aloud", exc)
            with self._lock:
                self._checked, self._ok = time.monotonic(), False
            return None


def browser_speech_html(text: str, language: str, label: str) -> str:
    """A button that reads ``text`` with the browser's speech synthesis (works offline)."""
    # "<" escaped: a text holding "</script>" must not end the script it sits in
    payload = json.dumps({"text": text, "lang": language}).replace("<", "\\u003c")
    return f"""
<button id="say" style="font:16px sans-serif;padding:10px 16px;border-radius:20px;border:1px solid #bbb;
 background:#fff;cursor:pointer;width:100%">🔊 {html.escape(label)}</button>
<script>
const p = {payload};
document.getElementById('say').onclick = () => {{
  const u = new SpeechSynthesisUtterance(p.text); u.lang = p.lang;
  window.speechSynthesis.cancel(); window.speechSynthesis.speak(u);
}};
</script>"""
