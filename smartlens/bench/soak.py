"""``smartlens bench soak``: visitors arrive and leave a lens process for a long time.

Each simulated visitor is a thread that does what a phone's stream does to the lens: a processor
from the shared runtime (``LensRuntime.new_processor``, as the page makes one), ``session_start``
logged, then decoded camera frames (``av.VideoFrame`` in I420, as WebRTC hands them over) through
the lens' real frame callback (:func:`~smartlens.lens.webrtc.frame_callback`) at the camera's rate
for a while, then the stream ends (``close()``, as ``on_video_ended``). Its processor stays in a
"session state" for ``keep_s`` afterwards, as Streamlit keeps a closed page's session, then goes.
Every ``switch_min`` minutes the lens loads its guide again (as after a curator's save or a newly
published model): new visitors get the new runtime, the two newest are kept (the app's cache), and
the pages still open follow the new one.

Printed: memory, threads and open files at the baseline (after a warm-up, with no visitor), over
time and at the end once every visitor has left; what is still alive (processors, recognisers of
replaced runtimes, visitors waiting for a slot); and from the event store, how many sessions
logged ``artwork_left`` for every visit they began.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import random
import tempfile
import threading
import time
import weakref
from collections import deque
from pathlib import Path
from typing import Any

import cv2

from ..analytics.events import EventLog, new_session_id, read_events
from ..config import Settings
from ..guide import GuideRef
from ..lens.runtime import LensRuntime, cores, load_runtime
from ..lens.slots import FairSlots
from ..lens.webrtc import frame_callback
from .clip import Clip, camera_clip
from .resources import held
from .timing import table


@dataclasses.dataclass
class SoakParams:
    minutes: float = 30.0
    visitors: int = 4  # at once, on average
    fps: float = 8.0
    session_s: tuple[float, float] = (15.0, 45.0)  # how long a visitor streams
    keep_s: float = 20.0  # a closed page's session is kept this long
    switch_min: float = 10.0  # the runtime is loaded again this often (0: never)
    sample_s: float = 30.0
    warmup_s: float = 20.0
    slots_idle_s: float | None = None  # None: the lens' own slots (FairSlots' default)
    seed: int = 0


class _Soak:
    def __init__(self, ref: GuideRef, settings: Settings, params: SoakParams, events: EventLog):
        self.ref, self.settings, self.p, self.events = ref, settings, params, events
        self.clip: Clip = camera_clip(ref, params.fps)
        # the frames as the WebRTC decoder hands them over: I420, made once
        self.i420 = [cv2.cvtColor(f, cv2.COLOR_BGR2YUV_I420) for f in self.clip.frames]
        self.slots = None if params.slots_idle_s is None else FairSlots(cores(), params.slots_idle_s)
        self.runtimes: deque[LensRuntime] = deque(maxlen=2)  # the app's cache (max_entries=2)
        self.replaced: list[weakref.ref] = []  # recognisers of runtimes that left the cache
        self.pages: dict[str, tuple[float, Any]] = {}  # closed pages: session -> (until, processor)
        self.processors: weakref.WeakSet = weakref.WeakSet()
        self.lock = threading.Lock()
        self.sessions = self.frames = self.frames_back = self.failures = 0
        self.active = 0
        self.loads = 0
        self.rng = random.Random(params.seed)
        self.load()

    def load(self) -> None:
        rt = load_runtime(str(self.ref.root), self.settings, events=self.events)
        if self.slots is not None:
            rt = dataclasses.replace(rt, slots=self.slots)
        with self.lock:
            self.loads += 1
            if len(self.runtimes) == self.runtimes.maxlen:
                self.replaced.append(weakref.ref(self.runtimes[0].recognizer))
            self.runtimes.append(rt)
            for _, proc in self.pages.values():  # pages still open rerun and follow it
                proc.follow(rt.recognizer, rt.ref.guide)

    def visitor(self, seconds: float) -> None:
        import av

        with self.lock:
            rt = self.runtimes[-1]
            self.active += 1
        session = new_session_id()
        language = rt.ref.guide.default_language
        proc = rt.new_processor(session, language)
        self.processors.add(proc)
        self.events.log(
            "session_start", session, guide=rt.ref.guide.name, language=language, method=rt.method
        )
        callback = frame_callback(proc.process)
        n = len(self.i420)
        offset = self.rng.randrange(n)
        frames = back = 0
        t0 = time.monotonic()
        k = 0
        while (now := time.monotonic()) - t0 < seconds:
            due = t0 + k / self.p.fps
            if now < due:
                time.sleep(due - now)
            frame = av.VideoFrame.from_ndarray(self.i420[(offset + k) % n], format="yuv420p")
            frame.pts = k
            out = callback(frame)
            frames += 1
            back += isinstance(out, av.VideoFrame)
            k = max(
                k + 1, int((time.monotonic() - t0) * self.p.fps)
            )  # a late frame is dropped, as WebRTC does
        proc.close()  # on_video_ended
        with self.lock:
            self.sessions += 1
            self.frames += frames
            self.frames_back += back
            self.failures += proc.failures.total + callback.failures.total
            self.active -= 1
            self.pages[session] = (time.monotonic() + self.p.keep_s, proc)

    def expire_pages(self, everything: bool = False) -> None:
        now = time.monotonic()
        with self.lock:
            for session, (until, _) in list(self.pages.items()):
                if everything or until <= now:
                    del self.pages[session]

    def look(self, t0: float) -> dict[str, Any]:
        gc.collect()
        with self.lock:
            row = {
                "minute": round((time.monotonic() - t0) / 60, 1),
                **held().as_dict(),
                "visitors": self.active,
                "sessions": self.sessions,
                "open_pages": len(self.pages),
                "processors_alive": len(self.processors),
                "waiting_for_slot": (self.slots or self.runtimes[-1].slots).waiting,
            }
        return row

    def run_visitors(self, minutes: float, t0: float, rows: list[dict[str, Any]]) -> None:
        """Visitors arriving (keeping about ``visitors`` at once) until ``minutes`` have passed."""
        p = self.p
        end = time.monotonic() + minutes * 60
        next_sample = time.monotonic() + p.sample_s
        next_switch = time.monotonic() + p.switch_min * 60 if p.switch_min else float("inf")
        threads: list[threading.Thread] = []
        mean_s = sum(p.session_s) / 2
        while time.monotonic() < end:
            if self.active < p.visitors * 1.5 and self.rng.random() < p.visitors / mean_s:
                th = threading.Thread(
                    target=self.visitor,
                    args=(self.rng.uniform(*p.session_s),),
                    name="soak-visitor",
                    daemon=True,
                )
                th.start()
                threads.append(th)
            threads = [t for t in threads if t.is_alive()]
            self.expire_pages()
            if time.monotonic() >= next_switch:
                self.load()
                next_switch += p.switch_min * 60
            if time.monotonic() >= next_sample:
                rows.append(self.look(t0))
                print(table(rows[-1:], list(rows[-1])), flush=True)
                next_sample += p.sample_s
            time.sleep(1.0)
        for th in threads:
            th.join(p.session_s[1] + 30)


def run(
    ref: GuideRef, settings: Settings, params: SoakParams, events_dir: Path | None = None
) -> dict[str, Any]:
    """The soak; returns the figures (and prints a line every ``sample_s``)."""
    folder = Path(events_dir or tempfile.mkdtemp(prefix="smartlens-soak-events-"))
    events = EventLog(folder)
    soak = _Soak(ref, settings, params, events)
    slots = soak.slots or soak.runtimes[-1].slots
    idle_s = slots.idle_s
    t0 = time.monotonic()
    # warm-up: as many visitors as the soak will have at most load what stays loaded (malloc's
    # arenas, one per thread that allocates at once, and the memory each keeps); then everyone
    # leaves and the slots' threads end
    most = max(1, int(params.visitors * 1.5))
    warm = [threading.Thread(target=soak.visitor, args=(params.warmup_s,)) for _ in range(most)]
    for th in warm:
        th.start()
    for th in warm:
        th.join()
    soak.expire_pages(everything=True)
    # the event store's reader (one DuckDB database per process, with its own threads and memory)
    # opens once for good, at the first segment converted or the first read: open it now, as the
    # lens process does within its first 15 minutes, so the baseline holds it
    events.flush()
    read_events(folder)
    _wait_idle(slots, idle_s)
    baseline = soak.look(t0)
    print("baseline (after a warm-up, nobody here):", json.dumps(baseline), flush=True)
    rows: list[dict[str, Any]] = [baseline]
    before = soak.sessions
    soak.run_visitors(params.minutes, t0, rows)
    soak.expire_pages(everything=True)
    _wait_idle(slots, idle_s)
    end = soak.look(t0)
    rows.append(end)
    replaced_alive = sum(r() is not None for r in soak.replaced)
    events.close()
    by_session: dict[str, dict[str, int]] = {}
    for e in read_events(folder):
        counts = by_session.setdefault(e["session"], {})
        counts[e["type"]] = counts.get(e["type"], 0) + 1
    started = [c for c in by_session.values() if c.get("session_start")]
    visited = [c for c in started if c.get("artwork_recognised")]
    closed = [c for c in visited if c.get("artwork_left", 0) == c.get("artwork_recognised", 0)]
    return {
        "params": dataclasses.asdict(params),
        "cores": cores(),
        "sessions": soak.sessions - before,
        "sessions_with_warmup": soak.sessions,
        "frames": soak.frames,
        "frames_back": soak.frames_back,
        "failures": soak.failures,
        "runtimes_loaded": soak.loads,
        "runtimes_replaced": len(soak.replaced),
        "replaced_recognisers_alive": replaced_alive,
        "baseline": baseline,
        "end": end,
        "memory_growth_mb": round(end["rss_mb"] - baseline["rss_mb"], 1),  # resident
        "live_growth_mb": round(end["live_mb"] - baseline["live_mb"], 1),  # in use
        "threads_growth": end["threads"] - baseline["threads"],
        "open_files_growth": end["open_files"] - baseline["open_files"],
        "event_sessions": len(started),
        "sessions_that_saw_an_artwork": len(visited),
        "sessions_with_every_visit_left": len(closed),
        "samples": rows,
    }


def _wait_idle(slots: FairSlots, idle_s: float) -> None:
    """Until the slots' threads have ended (``idle_s`` after the last recognition)."""
    deadline = time.monotonic() + idle_s + 30
    while slots.threads and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(1.0)  # the ended threads leave the process


def main(args: argparse.Namespace, settings: Settings) -> int:
    """``bench soak``: print the figures."""
    from .views import bench_guide, paintings_dir

    ref = bench_guide(Path(args.paintings) if args.paintings else paintings_dir(settings), settings)
    lo, hi = (float(v) for v in args.session_s.split(","))
    params = SoakParams(
        minutes=args.minutes,
        visitors=args.visitors,
        fps=args.fps,
        session_s=(lo, hi),
        keep_s=args.keep_s,
        switch_min=args.switch_min,
    )
    r = run(ref, settings, params)
    print(
        f"\nsoak: {r['sessions']} sessions in {params.minutes:g} min ({r['cores']} cores), "
        f"{r['frames']} frames, {r['frames_back']} came back, {r['failures']} failures"
    )
    print(table([r["baseline"], r["end"]], list(r["baseline"])))
    print(
        f"memory growth: in use {r['live_growth_mb']:+} MB (goal <= 50), resident {r['memory_growth_mb']:+} MB "
        f"(with what malloc keeps free for the next frames); threads {r['threads_growth']:+d}, "
        f"open files {r['open_files_growth']:+d} (goal: back to the baseline); processors alive "
        f"{r['end']['processors_alive']}, recognisers of replaced runtimes alive "
        f"{r['replaced_recognisers_alive']} of {r['runtimes_replaced']}"
    )
    print(
        f"events: {r['event_sessions']} sessions, {r['sessions_that_saw_an_artwork']} saw an artwork, "
        f"{r['sessions_with_every_visit_left']} logged artwork_left for every visit"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2, default=str))
    return 0
