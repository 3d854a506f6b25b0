"""One visitor's frame loop: track, ask for recognitions, stabilise, draw, report.

The WebRTC worker calls :meth:`LensProcessor.process` with each frame (through
:func:`~.webrtc.frame_callback`; streamlit-webrtc already hands over only the newest one). Full
recognitions never run in that call: the frame asks the visitor's :class:`~.worker.RecognitionWorker`,
which runs them on the process' shared slots (:class:`~.slots.FairSlots`).

With a method that knows the artwork's pose (verified retrieval; a classifier or detector whose
open-set gate verified the answer), the artwork is tracked from
frame to frame (:mod:`.tracker`, a few milliseconds in the visitor's own callback): a finished
recognition restarts the track on the frame it was made from, and the tracker follows it to the
current frame. A full recognition is asked for only when nothing is tracked, when tracking
weakens, or about once a second to confirm. Every frame is drawn from the pose in that frame,
never from an older frame's result. A learned model without its gate has no pose: it recognises
as often as it gets a slot and draws its last result.

Nothing on this path can stop the video: a frame whose processing fails goes back as it came,
and the failure is counted and logged once per kind (:mod:`.failures`). The recogniser is held
only while the visitor streams; between streams the processor keeps a weak reference, so a lens
that has moved on to a newer guide or model frees the old one even while old pages stay open.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from ..analytics.events import EventLog
from ..drawing import draw
from ..errors import ImageError
from ..guide import Guide
from ..imaging import as_bgr
from ..methods import Recognizer
from ..recognition.result import Recognition
from .failures import Failures
from .slots import FairSlots
from .stabilizer import LensState, Stabilizer
from .tracker import Tracker, TrackerParams
from .visits import Visits
from .worker import RecognitionWorker


@dataclass
class LensStats:
    frames: int = 0
    processed: int = 0
    skipped: int = 0
    errors: int = 0  # recognitions that raised
    failures: int = 0  # everything that failed on this visitor's path (recognitions included)
    started: float = 0.0
    first_result: float | None = None  # seconds from the first frame to the first shown artwork
    median_ms: float = 0.0  # full recognition
    p95_ms: float = 0.0
    fps: float = 0.0  # full recognitions per second, lately
    tracked: int = 0  # frames drawn from a tracked pose (no full recognition)
    lost: int = 0  # times tracking stopped
    track_median_ms: float = 0.0  # tracking and drawing of one frame
    track_p95_ms: float = 0.0


class LensProcessor:
    #: a tracked artwork is confirmed by a full recognition about this often
    confirm_s: float = 1.0

    def __init__(
        self,
        recognizer: Recognizer,
        guide: Guide,
        slots: FairSlots,
        session: str,
        events: EventLog | None = None,
        language: str | None = None,
        tracker: TrackerParams | None = None,
        left_after_s: float = 2.0,
    ):
        self.slots, self.session, self.events = slots, session, events
        self.language = language or guide.default_language
        self.updates: queue.Queue[LensState] = queue.Queue(maxsize=16)
        self.failures = Failures()
        self._tracker_params = tracker
        self._frame_lock = threading.Lock()  # one frame at a time; close() waits for it
        self._lock = threading.Lock()  # stats and the card, read from the page's thread
        self._ms: deque[float] = deque(maxlen=200)
        self._track_ms: deque[float] = deque(maxlen=200)
        self._done_at: deque[float] = deque(maxlen=60)
        self._stats = LensStats()
        self._worker = RecognitionWorker(slots, session, self._recognise)
        self._visits = Visits(self._event, left_after_s)
        self._next: tuple[weakref.ref[Recognizer], Guide] = (weakref.ref(recognizer), guide)
        self.recognizer: Recognizer | None = None  # held only while the visitor streams
        self.guide, self.method = guide, str(getattr(recognizer, "method", ""))
        self._reset()

    def _reset(self) -> None:
        """Forget the stream's state (a new stream starts from nothing)."""
        self._stabilizer = Stabilizer()
        self._tracker = Tracker(self._tracker_params)
        self._tracked: Recognition | None = None  # the recognition the track started from
        self._tracks = False  # the recogniser can place an artwork at a pose
        self._last: Recognition | None = None
        self._last_full = 0.0
        self._misses = 0  # confirmations in a row that found nothing while tracking
        self._weak = False  # the last tracked frame had few points left
        self._drawn: Recognition | None = None
        self._labels: dict[tuple[str, str], dict[str, str]] = {}

    def follow(self, recognizer: Recognizer, guide: Guide | None = None) -> None:
        """Use ``recognizer`` (and ``guide``) from the visitor's next stream on; the stream under way,
        if any, keeps what it has. Held weakly until that stream starts."""
        with self._frame_lock:
            self._next = (weakref.ref(recognizer), guide or self._next[1])

    # --- called from the WebRTC worker thread -----------------------------------------------
    def process(self, frame: np.ndarray) -> np.ndarray:
        """Return ``frame`` (same size) with the current result drawn on it. Never raises, never
        waits for a recognition: those run on the slots and are picked up by a later frame."""
        with self._frame_lock:
            with self._lock:
                self._stats.frames += 1
                if not self._stats.started:
                    self._stats.started = time.monotonic()
            try:
                return self._process(frame)
            except Exception as exc:  # whatever it was, the visitor keeps video
                self.failures.record("frame", exc)
                return frame

    def _process(self, frame: np.ndarray) -> np.ndarray:
        if self.recognizer is None and not self._begin():
            return frame
        try:
            bgr = as_bgr(frame)
        except ImageError:
            return frame  # nothing sensible to draw on (a 2-pixel frame, say): pass it through
        if not self._tracks:
            return self._process_without_pose(bgr)
        now = time.monotonic()
        t0 = time.perf_counter()
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        current: Recognition | None = None
        tracked: Recognition | None = None
        try:
            done = self._worker.take()
            if done is not None:
                self._last_full = now
                current = self._after_recognition(*done)
            tracked = self._track(gray)
            current = tracked if tracked is not None else current
        except Exception as exc:  # tracking is an optimisation: on any failure, recognise instead
            self.failures.record("tracking", exc)
            self._tracker.stop()
            self._tracked, tracked, current = None, None, None
        if tracked is None or self._weak or now - self._last_full >= self.confirm_s:
            self._worker.ask(bgr, gray, urgent=tracked is None or self._weak)
        self._drawn = tracked if tracked is not None and tracked.artwork is not None else None
        out = self._draw(bgr, self._drawn)
        if tracked is not None:  # every frame with an outline is served by tracking alone
            with self._lock:
                self._track_ms.append((time.perf_counter() - t0) * 1000)
        if current is not None:
            self._observe(current, time.monotonic())
        return out

    def _begin(self) -> bool:
        """The first frame of a stream: hold the recogniser it will use; False when there is none."""
        ref, guide = self._next
        rec = ref()
        if rec is None:
            self.failures.record("stream start", LookupError("the recogniser was released"))
            return False
        self.recognizer, self.guide, self.method = rec, guide, str(getattr(rec, "method", ""))
        # a recogniser that can place an artwork at a pose is tracked between recognitions, unless
        # it says its answers carry none (a learned model without its open-set gate)
        self._tracks = callable(getattr(rec, "at_pose", None)) and bool(getattr(rec, "tracks", True))
        return True

    def _process_without_pose(self, bgr: np.ndarray) -> np.ndarray:
        """A recogniser whose answers carry no pose (a learned model without its open-set gate):
        recognise in the background whenever a slot is free, draw the last result."""
        done = self._worker.take()
        if done is not None:
            self._last = done[0]
            self._observe(done[0], time.monotonic())
        self._worker.ask(bgr, None)
        self._drawn = self._last if self._last is not None and self._last.artwork is not None else None
        return self._draw(bgr, self._last)

    def _recognise(self, bgr: np.ndarray) -> Recognition | None:
        """A full recognition (on a slot); None when it failed or the stream has ended."""
        rec = self.recognizer
        if rec is None:
            return None
        try:
            result = rec.recognize(bgr)
        except Exception as exc:  # a bad frame or a broken model must not stop the video
            with self._lock:
                self._stats.errors += 1
            self.failures.record("recognition", exc)
            return None
        with self._lock:
            self._stats.processed += 1
            self._ms.append(result.ms)
            self._done_at.append(time.monotonic())
        return result

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until the recognition asked for (if any) has finished; False on timeout. For
        tests and benchmarks that want each frame's recognition done before the next frame."""
        return self._worker.settle(timeout)

    @property
    def current(self) -> Recognition | None:
        """What the last frame sent back was drawn from (None: nothing was drawn)."""
        return self._drawn

    def _track(self, gray: np.ndarray) -> Recognition | None:
        """This frame's result from the tracked pose, or None when nothing is (or stays) tracked."""
        self._weak = False
        if not self._tracker.active or self._tracked is None or self._tracked.artwork is None:
            return None
        upd = self._tracker.update(gray)
        if upd.pose is None:
            with self._lock:
                self._stats.lost += 1
            self._tracked = None
            return None
        self._weak = upd.weak
        rec = self.recognizer.at_pose(  # type: ignore[union-attr]
            self._tracked.artwork, upd.pose, (gray.shape[1], gray.shape[0]), self._tracked.score
        )
        # a detail named without a box (a classifier's) has no place to follow: it holds while its
        # artwork is tracked, until the next recognition names the details again
        placed = {d.id for d in rec.details}
        rec.details += [d for d in self._tracked.details if d.box is None and d.id not in placed]
        with self._lock:
            self._stats.tracked += 1
        return rec

    def _after_recognition(self, rec: Recognition, gray: np.ndarray | None) -> Recognition | None:
        """Take a finished recognition of an earlier frame (``gray``): restart tracking from its pose
        (the next :meth:`_track` follows it to the current frame, so nothing stale is drawn), or
        count a miss. Returns what the card should see when nothing is tracked."""
        if rec.artwork is not None and rec.pose is not None and gray is not None:
            self._misses = 0
            # a fresh pose from the recogniser replaces the tracked one (no drift accumulates)
            self._tracked = rec if self._tracker.start(gray, rec.pose) else None
            return rec
        if rec.artwork is None and self._tracked is not None and self._tracker.active:
            # one blurred frame must not drop a good track; two confirmations in a row must
            self._misses += 1
            if self._misses < 2:
                return None
            self._tracker.stop()
            self._tracked = None
        self._misses = 0
        return rec

    def _observe(self, rec: Recognition, now: float) -> None:
        """Feed what this frame shows to the card and the analytics."""
        with self._lock:
            self._last = rec
            state, news = self._stabilizer.update(rec, now)
            if news and "artwork" in news and self._stats.first_result is None:
                self._stats.first_result = now - self._stats.started
        self._announce(state, news, rec, now)

    def snapshot(self, rec: Recognition) -> None:
        """Show a photo's result at once (the fallback when live video fails)."""
        with self._frame_lock:
            now = time.monotonic()
            with self._lock:
                state, news = self._stabilizer.force(rec, now)
            self._announce(state, news, rec, now)

    def _announce(self, state: LensState, news: list[str], rec: Recognition, now: float) -> None:
        if news:
            self._publish(state)
        self._visits.update(state, news, rec, now)
        for item in news:
            if item.startswith("detail:"):
                self._event("detail_recognised", artwork=state.artwork, detail=item.split(":", 1)[1])

    def close(self) -> None:
        """The visitor's stream ended: end the visits for the analytics, forget the stream, and let
        go of the recogniser (the next stream takes the one :meth:`follow` names, or the same)."""
        with self._frame_lock:
            self._worker.cancel()
            self._visits.end()
            self.recognizer = None
            self._reset()

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

    def _draw(self, bgr: np.ndarray, rec: Recognition | None) -> np.ndarray:
        if rec is None or rec.artwork is None:
            return bgr
        try:
            names = self._names(rec.artwork, self.language)
            return bgr if names is None else draw(bgr, rec, names)
        except Exception as exc:  # the frame goes back undrawn rather than not at all
            self.failures.record("drawing", exc)
            return bgr

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

    def _event(self, type_: str, **fields: str | float | None) -> None:
        if self.events is not None:
            self.events.log(
                type_,
                self.session,
                guide=self.guide.name,
                language=self.language,
                method=self.method or None,
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
            s.skipped = self._worker.skipped
            s.failures = self.failures.total
            if self._ms:
                s.median_ms = float(np.median(self._ms))
                s.p95_ms = float(np.percentile(self._ms, 95))
            if len(self._done_at) >= 2:
                s.fps = (len(self._done_at) - 1) / max(1e-6, self._done_at[-1] - self._done_at[0])
            if self._track_ms:
                s.track_median_ms = float(np.median(self._track_ms))
                s.track_p95_ms = float(np.percentile(self._track_ms, 95))
            return s
