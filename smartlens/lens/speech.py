"""Read-aloud text: gTTS when its service is reachable (MP3s cached per text and language),
otherwise the browser's own speech synthesis (the lens' media player), so reading aloud always
works offline."""

from __future__ import annotations

import hashlib
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
        self._making: set[Path] = set()  # MP3s being made in the background

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

    def prepare(self, text: str, language: str) -> Path | None:
        """The MP3 when it is already made; otherwise None at once (the browser reads this time)
        and, when gTTS answers, the MP3 is made in the background for the next visitor."""
        path = self.cache_path(text, language)
        if path.is_file():
            return path
        known_down = self._checked and not self._ok and time.monotonic() - self._checked < self.ttl
        if text.strip() and not self.settings.offline and not known_down:
            with self._lock:
                busy = path in self._making
                self._making.add(path)
            if not busy:
                threading.Thread(target=self._make, args=(text, language, path), daemon=True).start()
        return None

    def _make(self, text: str, language: str, path: Path) -> None:
        try:
            self.synthesize(text, language)
        finally:
            with self._lock:
                self._making.discard(path)

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
