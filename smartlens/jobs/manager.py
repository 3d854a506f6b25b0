"""Starting, finding and cancelling jobs: each one a process of SmartLens' own CLI.

Nothing lives in the caller's memory: every answer is read from ``data/jobs/``, so a studio
restarted (or a second studio) finds running jobs again and lists finished ones. A job of a
kind holds ``data/jobs/.locks/<kind>-<guide>.lock`` (``flock``) for its whole life: the lock is
taken here, before the process starts, and handed to it, so two starts can never both win.
A job's parameters (:func:`~.kinds.check_params`) and guide are checked before anything starts,
and cancel signals only the very process the job started (:func:`~.record.job_process_check`).
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..config import PROJECT_ROOT, Settings
from ..errors import UserError
from ..storage import atomic_write_json, check_id
from .kinds import CANCEL_GRACE_S, DEFAULT_CANCEL_GRACE_S, KINDS, check_params
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

#: How long a job may stay "starting" with no process recorded before it counts as failed.
START_GRACE_S = 30.0


class JobBusyError(UserError):
    """A job of the same kind is already running on the same guide."""


class UnverifiedProcessError(UserError):
    """The process a job folder names cannot be shown to be the job's: it is never signalled."""


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
    from ..guide import load_guide

    check_params(spec.kind, dict(spec.params))
    load_guide(spec.guide, settings)  # a missing or broken guide fails now, not inside the job
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


def cancel_job(job_id: str, settings: Settings, grace_s: float | None = None) -> Job:
    """Ask the job to stop (SIGTERM to its process group), then end it (SIGKILL) after ``grace_s``
    (default: its kind's, :data:`~smartlens.jobs.kinds.CANCEL_GRACE_S`: a training saves its best
    model so far first).

    Only the very process the job started is signalled; a folder naming a process that cannot be
    shown to be it (no start time, a pid now used by another program) raises
    :class:`UnverifiedProcessError` and nothing is signalled.
    """
    job = get_job(job_id, settings)
    if grace_s is None:
        grace_s = CANCEL_GRACE_S.get(job.spec.kind, DEFAULT_CANCEL_GRACE_S)
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
