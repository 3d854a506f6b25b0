"""One visitor's frame loop: recognise, track, stabilise, draw, report, all off the UI thread.

The WebRTC worker calls :meth:`LensProcessor.process` with each frame (streamlit-webrtc
already hands over only the newest one). Full recognitions never run in that call: the frame
asks the visitor's background worker (:class:`_Worker`), which recognises the newest frame
asked for when the visitor's turn for an inference slot comes; visitors take turns for the
slots (:class:`FairSlots`), so latency never piles up and no visitor starves.

With a method that knows the artwork's pose (verified retrieval), the artwork is then tracked
from frame to frame (:mod:`.tracker`, a few milliseconds in the visitor's own callback): a
finished recognition restarts the track on the frame it was made from, and the tracker follows
it to the current frame. A full recognition is asked for only when nothing is tracked, when
tracking weakens, or about once a second to confirm. Every frame is drawn from the pose in that
frame, never from an older frame's result. Classification, which has no pose, recognises as
often as it gets a slot and draws its last result.

Changes of what the card shows go to the page through a thread-safe queue, as in the
streamlit-webrtc examples; events go to the analytics log without ever blocking.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..analytics.events import EventLog
from ..drawing import draw
from ..errors import ImageError
from ..guide import Guide
from ..imaging import as_bgr
from ..recognition.result import Recognition
from .stabilizer import LensState, Stabilizer
from .tracker import Tracker, TrackerParams

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


class _Worker:
    """One visitor's full recognitions, off the frame loop (as AR systems do): one at a time, each
    on the newest frame asked for when the visitor's turn for a slot comes; the result waits for
    the next frame to pick it up. A thread runs only while there is something to recognise."""

    def __init__(
        self,
        slots: FairSlots,
        session: str,
        run: Callable[[np.ndarray], Recognition | None],
        slot_wait_s: float = 0.25,
        give_up_s: float = 1.0,
    ):
        self._slots, self._session, self._run = slots, session, run
        self._slot_wait_s, self._give_up_s = slot_wait_s, give_up_s
        self._cond = threading.Condition()
        self._asked: tuple[np.ndarray, np.ndarray | None, float] | None = None
        self._urgent = True
        self._done: tuple[Recognition, np.ndarray | None] | None = None
        self._running = False
        self._thread: threading.Thread | None = None
        self._generation = 0  # cancel() discards what is under way
        self.skipped = 0  # waits for a slot that timed out

    def ask(self, bgr: np.ndarray, gray: np.ndarray | None, urgent: bool = True) -> None:
        """Recognise this frame (or a newer one) unless a recognition is under way or unread.

        An urgent one (nothing is shown) waits for the visitor's turn; another (confirming what
        is tracked) runs only if a slot is free and nobody waits, else a later frame asks again:
        a room full of confirmations never delays a visitor who has just framed a new artwork."""
        with self._cond:
            if self._running or self._done is not None:
                return
            self._asked, self._urgent = (bgr, gray, time.monotonic()), urgent
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="lens-recognition", daemon=True)
                self._thread.start()

    def take(self) -> tuple[Recognition, np.ndarray | None] | None:
        """The finished recognition and the frame's grey image it was made on, once."""
        with self._cond:
            done, self._done = self._done, None
            return done

    def settle(self, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._thread is None, timeout)

    def cancel(self) -> None:
        """Forget what was asked and any result not yet read (the visitor's stream ended)."""
        with self._cond:
            self._asked, self._done = None, None
            self._generation += 1

    def _loop(self) -> None:
        while True:
            with self._cond:
                if self._asked is None:
                    self._thread = None
                    self._cond.notify_all()
                    return
                wait = self._slot_wait_s if self._urgent else 0.0
            if not self._slots.acquire(self._session, wait):
                with self._cond:
                    self.skipped += 1
                    # not urgent, or the visitor stopped sending frames: a later frame asks again
                    if self._asked is not None and (
                        not self._urgent or time.monotonic() - self._asked[2] > self._give_up_s
                    ):
                        self._asked = None
                continue
            try:
                with self._cond:  # the newest frame asked for, now that the slot is ours
                    job, self._asked = self._asked, None
                    self._running, generation = job is not None, self._generation
                rec = self._run(job[0]) if job is not None else None
            finally:
                self._slots.release()
            with self._cond:
                self._running = False
                if rec is not None and job is not None and generation == self._generation:
                    self._done = (rec, job[1])


@dataclass
class LensStats:
    frames: int = 0
    processed: int = 0
    skipped: int = 0
    errors: int = 0
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
    #: an artwork neither recognised nor tracked for this long has been left (analytics)
    left_after_s: float = 2.0

    def __init__(
        self,
        recognizer,
        guide: Guide,
        slots: FairSlots,
        session: str,
        events: EventLog | None = None,
        language: str | None = None,
        wait_s: float = 0.1,
        tracker: TrackerParams | None = None,
    ):
        self.recognizer, self.guide, self.slots = recognizer, guide, slots
        self.session, self.events, self.wait_s = session, events, wait_s
        self.language = language or guide.default_language
        self.updates: queue.Queue[LensState] = queue.Queue(maxsize=16)
        self._stabilizer = Stabilizer()
        self._last: Recognition | None = None
        self._lock = threading.Lock()
        self._ms: deque[float] = deque(maxlen=200)
        self._track_ms: deque[float] = deque(maxlen=200)
        self._done_at: deque[float] = deque(maxlen=60)
        self._stats = LensStats()
        self._labels: dict[tuple[str, str], dict[str, str]] = {}
        # tracking: only for recognisers that can place an artwork at a pose
        self._tracks = callable(getattr(recognizer, "at_pose", None))
        self._tracker = Tracker(tracker)
        self._tracked: Recognition | None = None  # the recognition the track started from
        self._last_full = 0.0
        self._misses = 0  # confirmations in a row that found nothing while tracking
        self._weak = False  # the last tracked frame had few points left
        self._visit: tuple[str, float, float] | None = None  # artwork, since, last seen
        self._detail_visits: dict[tuple[str, str], tuple[float, float]] = {}  # (artwork, detail): since, seen
        self._drawn: Recognition | None = None
        self._worker = _Worker(slots, session, self._recognise, slot_wait_s=max(wait_s, 0.25))

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
        """Return ``frame`` (same size) with the current result drawn on it. Never raises, never
        waits for a recognition: those run in the background and are picked up by a later frame."""
        now = time.monotonic()
        with self._lock:
            self._stats.frames += 1
            if not self._stats.started:
                self._stats.started = now
        try:
            bgr = as_bgr(frame)
        except ImageError:
            return frame  # nothing sensible to draw on (a 2-pixel frame, say): pass it through
        if not self._tracks:
            return self._process_without_pose(bgr)
        t0 = time.perf_counter()
        current: Recognition | None = None
        try:
            gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
            done = self._worker.take()
            if done is not None:
                self._last_full = now
                current = self._after_recognition(*done)
            tracked = self._track(gray)
            current = tracked if tracked is not None else current
        except Exception as exc:  # tracking is an optimisation: on any failure, recognise instead
            log.warning("tracking failed on a frame: %s", exc)
            self._tracker.stop()
            self._tracked, tracked, current = None, None, None
        if tracked is None or self._weak or now - self._last_full >= self.confirm_s:
            self._worker.ask(bgr, gray, urgent=tracked is None or self._weak)
        self._drawn = tracked if tracked is not None and tracked.artwork is not None else None
        try:
            out = self._draw(bgr, self._drawn)
        except Exception as exc:
            log.warning("overlay failed: %s", exc)
            out = bgr
        if tracked is not None:  # every frame with an outline is served by tracking alone
            with self._lock:
                self._track_ms.append((time.perf_counter() - t0) * 1000)
        if current is not None:
            self._observe(current, time.monotonic())
        return out

    def _process_without_pose(self, bgr: np.ndarray) -> np.ndarray:
        """Classification: recognise in the background whenever a slot is free, draw the last result."""
        done = self._worker.take()
        if done is not None:
            self._last = done[0]
            self._observe(done[0], time.monotonic())
        self._worker.ask(bgr, None)
        self._drawn = self._last if self._last is not None and self._last.artwork is not None else None
        try:
            return self._draw(bgr, self._last)
        except Exception as exc:
            log.warning("overlay failed: %s", exc)
            return bgr

    def _recognise(self, bgr: np.ndarray) -> Recognition | None:
        """A full recognition (on the worker, holding a slot); None when it failed."""
        try:
            rec = self.recognizer.recognize(bgr)
        except Exception as exc:  # a bad frame must not stop the video
            with self._lock:
                self._stats.errors += 1
            log.warning("recognition failed on a frame: %s", exc)
            return None
        with self._lock:
            self._stats.processed += 1
            self._ms.append(rec.ms)
            self._done_at.append(time.monotonic())
        return rec

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
            log.debug("tracking lost: %s", upd.lost)
            with self._lock:
                self._stats.lost += 1
            self._tracked = None
            return None
        self._weak = upd.weak
        rec = self.recognizer.at_pose(
            self._tracked.artwork, upd.pose, (gray.shape[1], gray.shape[0]), self._tracked.score
        )
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
        now = time.monotonic()
        with self._lock:
            state, news = self._stabilizer.force(rec, now)
        self._announce(state, news, rec, now)

    def _announce(self, state: LensState, news: list[str], rec: Recognition, now: float) -> None:
        if news:
            self._publish(state)
        self._visits(state, news, rec, now)
        for item in news:
            if item.startswith("detail:"):
                self._event("detail_recognised", artwork=state.artwork, detail=item.split(":", 1)[1])

    def _visits(self, state: LensState, news: list[str], rec: Recognition, now: float) -> None:
        """``artwork_recognised`` when a visit to an artwork begins (the card shows it, or it is
        seen again after being left), ``artwork_left`` with its dwell when the visitor turns to
        another artwork or none is seen for ``left_after_s``."""
        visit = self._visit
        if visit is not None:
            art, since, seen = visit
            if rec.artwork == art:
                self._visit = (art, since, now)
            elif "artwork" in news or now - seen > self.left_after_s:
                self._event("artwork_left", artwork=art, dwell_s=round(seen - since, 2))
                self._visit = None
        if self._visit is None and state.artwork is not None and rec.artwork == state.artwork:
            self._visit = (state.artwork, now, now)
            self._event("artwork_recognised", artwork=state.artwork, score=round(float(rec.score), 3))
        self._detail_dwell(rec, now)

    def _detail_dwell(self, rec: Recognition, now: float | None) -> None:
        """``detail_left`` with the seconds a detail stayed in view, once it has been out of view
        for ``left_after_s`` (or its artwork's visit ended; ``now`` None: the stream ended)."""
        visiting = self._visit[0] if self._visit is not None else None
        if now is not None and rec.artwork is not None and rec.artwork == visiting:
            for hit in rec.details:
                since, _ = self._detail_visits.get((rec.artwork, hit.id), (now, now))
                self._detail_visits[(rec.artwork, hit.id)] = (since, now)
        for key, (since, seen) in list(self._detail_visits.items()):
            if now is None or key[0] != visiting or now - seen > self.left_after_s:
                self._event("detail_left", artwork=key[0], detail=key[1], dwell_s=round(seen - since, 2))
                del self._detail_visits[key]

    def close(self) -> None:
        """The visitor left (the stream ended): end the current visits for the analytics."""
        self._worker.cancel()
        if self._visit is not None:
            art, since, seen = self._visit
            self._event("artwork_left", artwork=art, dwell_s=round(seen - since, 2))
            self._visit = None
        self._detail_dwell(Recognition(None), None)

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

    def _event(self, type_: str, **fields: str | float | None) -> None:
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
            s.skipped = self._worker.skipped
            if self._ms:
                s.median_ms = float(np.median(self._ms))
                s.p95_ms = float(np.percentile(self._ms, 95))
            if len(self._done_at) >= 2:
                s.fps = (len(self._done_at) - 1) / max(1e-6, self._done_at[-1] - self._done_at[0])
            if self._track_ms:
                s.track_median_ms = float(np.median(self._track_ms))
                s.track_p95_ms = float(np.percentile(self._track_ms, 95))
            return s
