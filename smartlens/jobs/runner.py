"""Inside a job's process (``python -m smartlens job run --dir ...``): do the work, say how far.

Progress events go to ``progress.jsonl`` and ``status.json`` (a few writes a second at most);
the end state, metrics and result go to ``status.json``; a traceback goes to the log (the
process' stderr) and its last line to the status. SIGTERM asks the job to stop: a training
ends at its next batch keeping the best model so far (and says which in its status), or keeps
nothing when it had not trained yet; other jobs end at once.
"""

from __future__ import annotations

import json
import shutil
import signal
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import USER_ERRORS
from ..progress import Progress, ProgressEvent
from ..training.clock import TrainingCancelledError
from .kinds import training_params
from .manager import cancel_requested
from .record import PROGRESS, JobSpec, JobStatus, read_spec, read_status, write_status

#: Fewest seconds between two progress writes (the last event of a stage is always written).
WRITE_EVERY_S = 0.5


class JobCancelledError(Exception):
    """The job was asked to stop (SIGTERM)."""


class ProgressWriter:
    """A :data:`Progress` callback writing events to the job folder, throttled."""

    def __init__(self, job_dir: Path, status: JobStatus) -> None:
        self.dir, self.status = Path(job_dir), status
        self._last = 0.0
        self._stage = ""
        self._t0 = time.time()

    def __call__(self, event: ProgressEvent) -> None:
        now = time.time()
        important = event.stage != self._stage or bool(event.metrics) or event.fraction >= 1.0
        if not important and now - self._last < WRITE_EVERY_S:
            return
        self._last, self._stage = now, event.stage
        line = {
            "t": round(now - self._t0, 2),
            "stage": event.stage,
            "fraction": round(float(event.fraction), 4),
            "message": event.message,
            "metrics": dict(event.metrics),
            "ends_at": event.ends_at,
        }
        with (self.dir / PROGRESS).open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, default=float) + "\n")
        s = self.status
        s.stage, s.fraction, s.message = event.stage, max(0.0, min(1.0, float(event.fraction))), event.message
        s.ends_at = event.ends_at
        if event.metrics:
            s.metrics = {**s.metrics, **event.metrics}
        write_status(self.dir, s)


def _tidy_partial_models(guide: str, settings: Settings) -> None:
    """Remove half-written model folders of the guide: the train lock is held, so no one writes them."""
    from ..model_store import guide_models_dir

    root = guide_models_dir(guide, settings)
    if root.is_dir():
        for p in root.glob(".*.partial"):
            shutil.rmtree(p, ignore_errors=True)


def run_views(
    spec: JobSpec, settings: Settings, progress: Progress, stop: threading.Event, started: float
) -> dict[str, Any]:
    """Make (or reuse) exactly the views a training with these parameters reads."""
    from ..guide import load_guide

    training, params = training_params(spec.params)
    views = training.views(load_guide(spec.guide, settings), settings, params, progress)
    return {
        "views": str(views.train),
        "validation": str(views.validation),
        "report": str(views.report),
        "complete": views.complete,
        "seconds": round(views.seconds, 1),
    }


def run_index(
    spec: JobSpec, settings: Settings, progress: Progress, stop: threading.Event, started: float
) -> dict[str, Any]:
    """Build (or check) a retrieval index."""
    from ..guide import load_guide
    from ..methods.retrieval import load_retrieval
    from ..vocabulary import RetrievalMode

    p = dict(spec.params)
    rec = load_retrieval(
        load_guide(spec.guide, settings),
        settings,
        p.get("mode", RetrievalMode.VERIFIED),
        progress,
        bool(p.get("rebuild", False)),
    )
    i = rec.info
    return {"index": str(i.path), "entries": i.entries, "built": i.built, "seconds": round(i.seconds, 1)}


def run_train(
    spec: JobSpec, settings: Settings, progress: Progress, stop: threading.Event, started: float
) -> dict[str, Any]:
    """Train the recogniser of the job's method (classification by default), its time budget
    counted from ``started`` (when the job was asked for). Asked to stop, the training keeps its
    best model so far; the result says what was kept."""
    from ..guide import load_guide

    training, params = training_params(spec.params)
    ref = load_guide(spec.guide, settings)
    _tidy_partial_models(spec.guide, settings)
    result = training.train(ref, settings, params, progress, stop, started)
    metrics = result.metrics
    gate = metrics.get("open_set_gate") or {}
    best = (metrics.get("validation") or {}).get("best_epoch")
    epochs = len(next(iter(result.history.values()), []))
    kept = f"kept {Path(result.model_dir).name}" + (
        f" (epoch {best} of the {epochs} trained)" if best else ""
    )
    if not gate.get("available"):
        kept += f"; open-set gate {gate.get('why', 'not built')}"
    return {
        "model": Path(result.model_dir).name,
        "model_dir": str(result.model_dir),
        "summary": f"{kept}. {training.figures(metrics)}",
        "report": metrics.get("report") or {},
        "seconds": round(float(result.seconds), 1),
        "stopped_early": bool(result.stopped_early),
    }


WORK: dict[str, Callable[[JobSpec, Settings, Progress, threading.Event, float], dict[str, Any]]] = {
    "views": run_views,
    "index": run_index,
    "train": run_train,
}


def run_job(job_dir: Path, settings: Settings) -> int:
    """Run the job described in ``job_dir``; returns the process' exit status."""
    job_dir = Path(job_dir)
    spec = read_spec(job_dir)
    status = read_status(job_dir)
    if spec is None:
        status.state, status.error = "failed", "spec.json is missing or damaged"
        write_status(job_dir, status)
        return 2
    stop = threading.Event()

    def on_term(signum: int, frame: object) -> None:
        if spec.kind == "train" and not stop.is_set():
            stop.set()  # ends at the next batch, keeping the best model so far
            return
        raise JobCancelledError()

    signal.signal(signal.SIGTERM, on_term)
    status.state, status.started, status.message = "running", time.time(), "started"
    write_status(job_dir, status)
    print(f"job {job_dir.name}: {spec.kind} on guide '{spec.guide}' with {spec.params}", flush=True)
    writer = ProgressWriter(job_dir, status)
    try:
        result = WORK[spec.kind](spec, settings, writer, stop, status.created)
    except JobCancelledError:
        status.state, status.message = "cancelled", "cancelled"
    except TrainingCancelledError as exc:
        status.state, status.message = "cancelled", f"{exc}"
    except BaseException as exc:  # every failure ends in the status, its traceback in the log
        traceback.print_exc()
        cancelled = cancel_requested(job_dir)
        status.state = "cancelled" if cancelled else "failed"
        message = str(exc) if isinstance(exc, USER_ERRORS) else f"{type(exc).__name__}: {exc}"
        status.error = None if cancelled else message
        status.message = "cancelled" if cancelled else "failed"
    else:
        status.result = result
        status.state = "cancelled" if stop.is_set() else "done"
        status.fraction = 1.0
        status.message = "cancelled: " + result.get("summary", "") if stop.is_set() else "done"
    status.finished = time.time()
    write_status(job_dir, status)
    print(f"job {job_dir.name}: {status.state}" + (f": {status.error}" if status.error else ""), flush=True)
    return 0 if status.state == "done" else 1
