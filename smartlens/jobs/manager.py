"""Starting, finding and cancelling jobs: each one a process of SmartLens' own CLI.

Nothing lives in the caller's memory: every answer is read from ``data/jobs/``, so a studio
restarted (or a second studio) finds running jobs again and lists finished ones. A job of a
kind holds ``data/jobs/.locks/<kind>-<guide>.lock`` (``flock``) for its whole life: the lock is
taken here, before the process starts, and handed to it, so two starts can never both win.
A job's parameters and guide are checked before anything starts (:func:`check_spec`), and
cancel signals only the very process the job started (:func:`~.record.job_process_check`).
"""

from __future__ import annotations

import fcntl
import math
import os
import re
import signal
import subprocess
import sys
import time
import types
import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..config import PROJECT_ROOT, Settings
from ..errors import UserError
from ..storage import atomic_write_json, check_id
from ..vocabulary import BackboneSize, Method, Preset, RetrievalMode, choices
from .record import (
    CANCEL,
    LIVE,
    LOG,
    PROCESS,
    SPEC,
    Job,
    JobSpec,
    JobStatus,
    job_process,
    job_process_check,
    jobs_dir,
    new_job_id,
    read_json,
    read_spec,
    read_status,
    write_process,
    write_status,
)

#: The kinds of job, and what a person calls them.
KINDS = {"views": "training views", "index": "retrieval index", "train": "training"}
#: How long a job may stay "starting" with no process recorded before it counts as failed.
START_GRACE_S = 30.0


class JobBusyError(UserError):
    """A job of the same kind is already running on the same guide."""


class UnverifiedProcessError(UserError):
    """The process a job folder names cannot be shown to be the job's: it is never signalled."""


# --- parameters, checked before a job starts -------------------------------------------------------
@dataclass
class IndexParams:
    """What an index job takes."""

    mode: str = field(default=RetrievalMode.VERIFIED, metadata={"choices": choices(RetrievalMode)})
    rebuild: bool = False


#: Bounds of the training parameters, until each method's parameter dataclass declares its own
#: (``field(metadata={"min": ..., "max": ..., "choices": ...})``, which wins over these).
INTERIM_BOUNDS: dict[str, dict[str, Any]] = {
    "epochs": {"min": 1, "max": 1000},
    "size": {"choices": choices(BackboneSize)},
    "budget_minutes": {"min": 0.1, "max": 24 * 60},
    "per_image": {"min": 1, "max": 5000},
    "val_per_image": {"min": 0, "max": 1000},
    "negatives": {"min": 0, "max": 100_000},
    "val_negatives": {"min": 0, "max": 20_000},
    "preset": {"choices": choices(Preset)},
    "input_size": {"min": 32, "max": 1024},
    "batch_size": {"min": 1, "max": 1024},
    "learning_rate": {"min": 1e-7, "max": 1.0},
    "seed": {"min": 0, "max": 2**31 - 1},
    "workers": {"min": 1, "max": 256},
    "negative_dirs": {"folders": True},
}
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_INT = re.compile(r"[+-]?\d{1,12}")


def validate_params(
    cls: type, raw: Mapping[str, object], bounds: Mapping[str, Mapping] | None = None
) -> dict:
    """``raw`` checked against the parameter dataclass ``cls``: each value coerced to its field's
    type (strings from a command line, or values already typed), unknown names refused, numbers
    finite and within the field's ``metadata`` bounds (``min``, ``max``, ``choices``; ``folders``
    for paths that must be existing folders). ``bounds`` fills in for fields that declare none.

    Raises :class:`UserError` naming the first bad parameter; returns the typed values.
    """
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise UserError(f"unknown parameter(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    hints = typing.get_type_hints(cls)
    out = {}
    for name, value in raw.items():
        meta = {**(bounds or {}).get(name, {}), **known[name].metadata}
        out[name] = _check_value(name, value, hints[name], meta)
    return out


def _check_value(name: str, value: object, hint: Any, meta: Mapping[str, Any]) -> object:
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in args:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
            return None
        (hint,) = [a for a in args if a is not type(None)]
    bad = UserError(f"parameter {name}: {value!r} is not {_describe(hint)}")
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise bad
    if hint is int or hint is float:
        number: int | float
        if isinstance(value, bool):
            raise bad
        if isinstance(value, str):
            text = value.strip()
            try:
                number = int(text) if hint is int and _INT.fullmatch(text) else float(text)
            except ValueError:
                raise bad from None
        elif isinstance(value, (int, float)):
            number = value
        else:
            raise bad
        if not math.isfinite(number):
            raise UserError(f"parameter {name}: {value!r} is not a finite number")
        if hint is int:
            if isinstance(number, float):
                raise bad
        else:
            number = float(number)
        lo, hi = meta.get("min"), meta.get("max")
        if (lo is not None and number < lo) or (hi is not None and number > hi):
            raise UserError(f"parameter {name}: {value!r} is out of range ({lo} to {hi})")
        return number
    if hint is str:
        if not isinstance(value, str):
            raise bad
        if "choices" in meta and value not in meta["choices"]:
            raise UserError(f"parameter {name}: {value!r} is not one of {', '.join(meta['choices'])}")
        return value
    if hint is Path or typing.get_origin(hint) is tuple:
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(isinstance(i, (str, Path)) and str(i).strip() for i in items):
            raise bad
        paths = tuple(Path(str(i)) for i in items)
        for p in paths:
            if meta.get("folders") and not p.is_dir():
                raise UserError(f"parameter {name}: {str(p)!r} is not a folder")
        return paths if typing.get_origin(hint) is tuple else paths[0]
    raise UserError(f"parameter {name}: cannot be set from here")


def _describe(hint: Any) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a text"}
    return names.get(hint, "a path (or a list of paths)")


def params_class(kind: str, params: Mapping[str, object]) -> type:
    """The parameter dataclass of a job of ``kind`` with these parameters."""
    if kind == "index":
        return IndexParams
    from ..training.classification import TrainParams

    if kind == "train" and params.get("method", Method.CLASSIFICATION) == Method.DETECTION:
        from ..training.detection import DetectorParams

        return DetectorParams
    return TrainParams


def check_spec(spec: JobSpec, settings: Settings) -> JobSpec:
    """``spec`` with its parameters checked and typed, for a guide that exists; raises
    :class:`UserError` (nothing started, nothing written) otherwise."""
    from ..guide import load_guide

    if spec.kind not in KINDS:
        raise UserError(f"unknown job kind {spec.kind!r} (known: {', '.join(KINDS)})")
    params = dict(spec.params)
    method = params.pop("method", None) if spec.kind == "train" else None
    if method is not None and method not in choices(Method)[1:]:
        raise UserError(f"parameter method: {method!r} is not one of {', '.join(choices(Method)[1:])}")
    checked = validate_params(params_class(spec.kind, spec.params), params, INTERIM_BOUNDS)
    load_guide(spec.guide, settings)  # a guide that is missing or broken fails now, not in the job
    stored = {
        k: [str(p) for p in v] if isinstance(v, tuple) else str(v) if isinstance(v, Path) else v
        for k, v in checked.items()
    }
    return replace(spec, params=({"method": method} if method is not None else {}) | stored)


def lock_path(settings: Settings, kind: str, guide: str) -> Path:
    return (
        jobs_dir(settings) / ".locks" / f"{check_id(kind, 'job kind')}-{check_id(guide, 'guide name')}.lock"
    )


def child_env(settings: Settings) -> dict[str, str]:
    """The environment a job process reads its settings from: the caller's folders, explicitly."""
    env = dict(os.environ)
    env.update(
        {
            "SMARTLENS_HOME": str(settings.home),
            "SMARTLENS_DATA": str(settings.data),
            "SMARTLENS_MODELS": str(settings.models),
            "SMARTLENS_OFFLINE": "1" if settings.offline else "0",
            "SMARTLENS_THREADS": str(settings.threads),
            "KERAS_HOME": str(settings.keras_home),
            "PYTHONUNBUFFERED": "1",
            "TF_CPP_MIN_LOG_LEVEL": env.get("TF_CPP_MIN_LOG_LEVEL", "2"),
        }
    )
    if settings.weights:
        env["SMARTLENS_WEIGHTS"] = str(settings.weights)
    else:
        env.pop("SMARTLENS_WEIGHTS", None)
    return env


def start_job(spec: JobSpec, settings: Settings) -> Job:
    """Start ``python -m smartlens job run --dir data/jobs/<id>`` in its own process group.

    Raises :class:`UserError` for bad parameters or guide (nothing started, no folder left) and
    :class:`JobBusyError` when a job of that kind runs on that guide already.
    """
    spec = check_spec(spec, settings)
    lock = lock_path(settings, spec.kind, spec.guide)
    lock.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusyError(
                f"a {KINDS[spec.kind]} job is already running on guide '{spec.guide}': "
                "wait for it to end, or cancel it"
            ) from None
        job_id = new_job_id(spec.kind)
        job_dir = (jobs_dir(settings) / job_id).resolve()
        job_dir.mkdir(parents=True)
        atomic_write_json(job_dir / SPEC, asdict(spec))
        write_status(job_dir, JobStatus(message="starting"))
        with (job_dir / LOG).open("ab") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "smartlens",
                    "job",
                    "run",
                    "--dir",
                    str(job_dir),
                    "--lock-fd",
                    str(fd),
                ],
                cwd=PROJECT_ROOT,
                env=child_env(settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=(fd,),
                start_new_session=True,  # its own process group: cancel reaches its workers too
            )
        write_process(job_dir, proc.pid)
    finally:
        os.close(fd)  # the job's process holds the lock now (same open file)
    return read_job(job_dir)


def read_job(job_dir: Path) -> Job:
    """A job as it is now; a live state with no process behind it becomes 'failed' (saved)."""
    job_dir = Path(job_dir)
    spec = read_spec(job_dir) or JobSpec("unknown", "unknown")
    status = read_status(job_dir)
    pid = job_process(job_dir)
    alive = pid is not None
    if status.state in LIVE and not alive:
        started_long_ago = time.time() - status.created > START_GRACE_S
        if (job_dir / PROCESS).is_file() or started_long_ago:
            status = read_status(job_dir)  # it may have written its end just now
            if status.state in LIVE:
                cancelled = (job_dir / CANCEL).is_file()
                status.state = "cancelled" if cancelled else "failed"
                status.finished = status.finished or time.time()
                status.error = status.error or (
                    None
                    if cancelled
                    else "the job's process ended without reporting (killed, or out of memory?): see its log"
                )
                write_status(job_dir, status)
    return Job(job_dir.name, job_dir, spec, status, alive)


def list_jobs(settings: Settings, guide: str | None = None, kind: str | None = None) -> list[Job]:
    """Every job (newest first), optionally of one guide and kind."""
    root = jobs_dir(settings)
    if not root.is_dir():
        return []
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")), reverse=True):
        if not (d / SPEC).is_file():
            continue
        job = read_job(d)
        if (guide is None or job.spec.guide == guide) and (kind is None or job.spec.kind == kind):
            out.append(job)
    return out


def get_job(job_id: str, settings: Settings) -> Job:
    job_dir = jobs_dir(settings) / check_id(job_id, "job id")
    if not (job_dir / SPEC).is_file():
        raise FileNotFoundError(f"no job {job_id!r} in {jobs_dir(settings)}")
    return read_job(job_dir)


def cancel_job(job_id: str, settings: Settings, grace_s: float = 10.0) -> Job:
    """Ask the job to stop (SIGTERM to its process group), then end it (SIGKILL) after ``grace_s``.

    Only the very process the job started is signalled; a folder naming a process that cannot be
    shown to be it (no start time, a pid now used by another program) raises
    :class:`UnverifiedProcessError` and nothing is signalled.
    """
    job = get_job(job_id, settings)
    check = job_process_check(job.dir)
    if check.problem:
        raise UnverifiedProcessError(f"job {job.id}: nothing was signalled: {check.problem}")
    pid = check.pid
    if pid is None:
        return read_job(job.dir)
    atomic_write_json(job.dir / CANCEL, {"requested": time.time()})
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and job_process(job.dir) is not None:
        time.sleep(0.1)
    if job_process(job.dir) is not None:
        _signal_group(pid, signal.SIGKILL)
        for _ in range(50):
            if job_process(job.dir) is None:
                break
            time.sleep(0.1)
    # the lock goes with the last process of the job's group (a worker may outlive its parent
    # by a moment): when this returns, a new job of the kind can start
    _wait_lock_free(lock_path(settings, job.spec.kind, job.spec.guide), timeout=10.0)
    return read_job(job.dir)


def _wait_lock_free(path: Path, timeout: float) -> bool:
    """Whether the lock at ``path`` is free (waiting up to ``timeout`` seconds for it)."""
    if not path.is_file():
        return True
    deadline = time.monotonic() + timeout
    fd = os.open(path, os.O_RDWR)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
                return True
    finally:
        os.close(fd)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the job leads its own group (start_new_session)
    except ProcessLookupError:
        pass


def cancel_requested(job_dir: Path) -> bool:
    return read_json(Path(job_dir) / CANCEL) is not None
