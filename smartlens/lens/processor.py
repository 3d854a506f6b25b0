"""One visitor's frame loop: recognise, stabilise, draw, report, all off the UI thread.

The WebRTC worker calls :meth:`LensProcessor.process` with each frame (streamlit-webrtc
already hands over only the newest one). Recognition runs when an inference slot is free;
visitors take turns for the slots (:class:`FairSlots`), and a frame that does not get one
within a short wait is sent back with the last result drawn on it, so latency never piles up
and no visitor starves while another's frames keep arriving. Changes of what
the card shows go to the page through a thread-safe queue, as in the streamlit-webrtc
examples; events go to the analytics log without ever blocking.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..analytics.events import EventLog
from ..drawing import draw
from ..errors import ImageError
from ..guide import Guide
from ..imaging import as_bgr
from ..recognition.result import Recognition
from .stabilizer import LensState, Stabilizer

log = logging.getLogger("smartlens.lens")


class FairSlots:
    """Inference slots shared by all visitors, handed out in turn.

    A visitor that asks while the slots are busy joins a queue and keeps its place across
    frames (a frame that gives up waiting does not lose the turn). A free slot goes to the
    earliest-queued visitor that is waiting right now, so a slot never idles while someone
    waits; visitors that stop asking (gone, or paused) drop out after ``stale_s``.
    """

    def __init__(self, slots: int = 1, stale_s: float = 1.0):
        self._free = slots
        self._queue: deque[str] = deque()
        self._waiting: set[str] = set()
        self._seen: dict[str, float] = {}
        self._cond = threading.Condition()
        self.stale_s = stale_s

    def _my_turn(self, visitor: str) -> bool:
        if self._free <= 0:
            return False
        first = next((v for v in self._queue if v in self._waiting), None)
        return first == visitor

    def acquire(self, visitor: str, timeout: float = 0.1) -> bool:
        with self._cond:
            now = time.monotonic()
            self._seen[visitor] = now
            for v in [v for v in self._queue if now - self._seen.get(v, 0) > self.stale_s]:
                self._queue.remove(v)
            if visitor not in self._queue:
                self._queue.append(visitor)
            self._waiting.add(visitor)
            try:
                ok = self._cond.wait_for(lambda: self._my_turn(visitor), timeout)
            finally:
                self._waiting.discard(visitor)
            if ok:
                self._queue.remove(visitor)
                self._free -= 1
            self._cond.notify_all()
            return ok

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()


@dataclass
class LensStats:
    frames: int = 0
    processed: int = 0
    skipped: int = 0
    errors: int = 0
    started: float = 0.0
    first_result: float | None = None  # seconds from the first frame to the first shown artwork
    median_ms: float = 0.0
    p95_ms: float = 0.0
    fps: float = 0.0  # frames recognised per second, lately


class LensProcessor:
    def __init__(
        self,
        recognizer,
        guide: Guide,
        slots: FairSlots,
        session: str,
        events: EventLog | None = None,
        language: str | None = None,
        wait_s: float = 0.1,
    ):
        self.recognizer, self.guide, self.slots = recognizer, guide, slots
        self.session, self.events, self.wait_s = session, events, wait_s
        self.language = language or guide.default_language
        self.updates: queue.Queue[LensState] = queue.Queue(maxsize=16)
        self._stabilizer = Stabilizer()
        self._last: Recognition | None = None
        self._lock = threading.Lock()
        self._ms: deque[float] = deque(maxlen=200)
        self._done_at: deque[float] = deque(maxlen=60)
        self._stats = LensStats()
        self._labels: dict[tuple[str, str], dict[str, str]] = {}

    # --- called from the WebRTC worker thread -----------------------------------------------
    def recv(self, frame):
        """streamlit-webrtc's video callback: an ``av.VideoFrame`` in, an annotated one out."""
        import av

        try:
            image = frame.to_ndarray(format="bgr24")
        except Exception as exc:  # an undecodable frame: send it back as it came
            log.warning("could not read a frame: %s", exc)
            return frame
        out = av.VideoFrame.from_ndarray(self.process(image), format="bgr24")
        out.pts = frame.pts
        if frame.time_base is not None:
            out.time_base = frame.time_base
        return out

    def process(self, frame: np.ndarray) -> np.ndarray:
        """Return ``frame`` (same size) with the current result drawn on it. Never raises."""
        now = time.monotonic()
        with self._lock:
            self._stats.frames += 1
            if not self._stats.started:
                self._stats.started = now
        try:
            bgr = as_bgr(frame)
        except ImageError:
            return frame  # nothing sensible to draw on (a 2-pixel frame, say): pass it through
        # wait for a turn about as long as another visitor's frame takes, else a waiting visitor
        # gives up just before the slot frees, and whoever holds it takes it again
        with self._lock:
            typical = float(np.median(self._ms)) / 1000 if self._ms else 0.0
        if self.slots.acquire(self.session, min(1.0, max(self.wait_s, 2.5 * typical))):
            try:
                rec = self.recognizer.recognize(bgr)
                self._record(rec)
            except Exception as exc:  # a bad frame must not stop the video
                with self._lock:
                    self._stats.errors += 1
                log.warning("recognition failed on a frame: %s", exc)
            finally:
                self.slots.release()
        else:
            with self._lock:
                self._stats.skipped += 1
        try:
            return self._draw(bgr)
        except Exception as exc:
            log.warning("overlay failed: %s", exc)
            return bgr

    def _record(self, rec: Recognition) -> None:
        now = time.monotonic()
        with self._lock:
            self._last = rec
            self._stats.processed += 1
            self._ms.append(rec.ms)
            self._done_at.append(now)
            state, news = self._stabilizer.update(rec, now)
            if news and "artwork" in news and self._stats.first_result is None:
                self._stats.first_result = now - self._stats.started
        self._announce(state, news)

    def snapshot(self, rec: Recognition) -> None:
        """Show a photo's result at once (the fallback when live video fails)."""
        with self._lock:
            state, news = self._stabilizer.force(rec, time.monotonic())
        self._announce(state, news)

    def _announce(self, state: LensState, news: list[str]) -> None:
        if news:
            self._publish(state)
            for item in news:
                if item == "artwork":
                    self._event("artwork_recognised", artwork=state.artwork)
                else:
                    self._event("detail_recognised", artwork=state.artwork, detail=item.split(":", 1)[1])

    def _publish(self, state: LensState) -> None:
        while True:
            try:
                self.updates.put_nowait(state)
                return
            except queue.Full:  # the page is not reading: keep the newest
                try:
                    self.updates.get_nowait()
                except queue.Empty:
                    pass

    def _draw(self, bgr: np.ndarray) -> np.ndarray:
        rec = self._last
        if rec is None or rec.artwork is None:
            return bgr
        names = self._names(rec.artwork, self.language)
        return bgr if names is None else draw(bgr, rec, names)

    def _names(self, artwork: str, language: str) -> dict[str, str] | None:
        """Detail labels of an artwork in a language (made once, not for every frame)."""
        key = (artwork, language)
        if key not in self._labels:
            try:
                art = self.guide.artwork(artwork)
            except KeyError:
                return None
            self._labels[key] = {d.id: self.guide.text(d.name, language) or d.id for d in art.details}
        return self._labels[key]

    def _event(self, type_: str, **fields: str | None) -> None:
        if self.events is not None:
            self.events.log(
                type_,
                self.session,
                guide=self.guide.name,
                language=self.language,
                method=getattr(self.recognizer, "method", None),
                **fields,
            )

    # --- called from the page --------------------------------------------------------------
    def event(self, type_: str, **fields: str | None) -> None:
        """Log something the visitor did on the page (opened a detail, played audio...)."""
        self._event(type_, **fields)

    def latest_state(self, current: LensState | None = None) -> LensState | None:
        """Drain the update queue; the newest state, or ``current`` when nothing changed."""
        state = current
        while True:
            try:
                state = self.updates.get_nowait()
            except queue.Empty:
                return state

    def stats(self) -> LensStats:
        with self._lock:
            s = LensStats(**vars(self._stats))
            if self._ms:
                s.median_ms = float(np.median(self._ms))
                s.p95_ms = float(np.percentile(self._ms, 95))
            if len(self._done_at) >= 2:
                s.fps = (len(self._done_at) - 1) / max(1e-6, self._done_at[-1] - self._done_at[0])
            return s
