"""Background jobs (training, augmentation) that the studio starts and keeps watching.

A job runs in a daemon thread; its progress, log and result are read from any thread, and it
can be asked to stop. Jobs live in the server process, so curators keep working (or reload the
page) while a model trains.
"""

from __future__ import annotations

import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .progress import ProgressEvent


@dataclass
class Job:
    name: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    state: str = "running"  # running, done, failed, stopped
    fraction: float = 0.0
    message: str = ""
    metrics: dict = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    finished: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def report(self, event: ProgressEvent) -> None:
        """The job's progress callback (:data:`smartlens.progress.Progress`)."""
        self.fraction, self.message = max(0.0, min(1.0, event.fraction)), event.message
        if event.metrics:
            self.metrics = dict(event.metrics)

    @property
    def running(self) -> bool:
        return self.state == "running"


class JobManager:
    """Starts jobs and remembers them (newest first)."""

    def __init__(self) -> None:
        self._jobs: list[Job] = []
        self._lock = threading.Lock()

    def start(self, name: str, work: Callable[[Job], Any]) -> Job:
        job = Job(name)

        def run() -> None:
            try:
                job.result = work(job)
                job.state = "stopped" if job.stop.is_set() else "done"
            except Exception as exc:  # shown in the studio with its message
                job.state, job.error = "failed", f"{exc}\n{traceback.format_exc(limit=3)}"
            finally:
                job.finished = time.time()

        with self._lock:
            self._jobs.insert(0, job)
        threading.Thread(target=run, name=f"job-{name}", daemon=True).start()
        return job

    def jobs(self) -> list[Job]:
        with self._lock:
            return list(self._jobs)
