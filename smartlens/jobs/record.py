"""One job on disk: ``data/jobs/<id>/`` holds its spec, status, progress lines and log.

The job's own process is the only writer of ``status.json`` while it lives (atomic writes);
``progress.jsonl`` gets one :class:`~smartlens.progress.ProgressEvent` a line; ``log.txt`` is
the process' stdout and stderr. ``process.json`` (written by whoever started it) names the
process by pid *and* start time, so a pid reused by another program is never taken for the job.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..config import Settings
from ..storage import atomic_write_json, check_id

SPEC, STATUS, PROGRESS, LOG, PROCESS, CANCEL = (
    "spec.json",
    "status.json",
    "progress.jsonl",
    "log.txt",
    "process.json",
    "cancel.json",
)
#: States of a job; the first two are "live" (a process should be behind them).
LIVE = ("starting", "running")
FINAL = ("done", "failed", "cancelled")


def jobs_dir(settings: Settings) -> Path:
    """Where every job's folder lives."""
    return settings.data / "jobs"


@dataclass
class JobSpec:
    """What to run: a kind (views, index, train), on which guide, with which parameters."""

    kind: str
    guide: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class JobStatus:
    """What ``status.json`` holds."""

    state: str = "starting"
    stage: str = ""
    fraction: float = 0.0
    message: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    result: dict[str, Any] = field(default_factory=dict)
    #: When the work says it will be over (``time.time()``), if it knows (a training does).
    ends_at: float | None = None

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> JobStatus:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


@dataclass
class Job:
    """A job as read from its folder (a snapshot; read it again to see it move)."""

    id: str
    dir: Path
    spec: JobSpec
    status: JobStatus
    alive: bool

    @property
    def state(self) -> str:
        return self.status.state

    @property
    def running(self) -> bool:
        return self.status.state in LIVE

    @property
    def seconds(self) -> float:
        """How long it has run (until now, or until it finished)."""
        start = self.status.started or self.status.created
        return max(0.0, (self.status.finished or time.time()) - start)

    @property
    def seconds_left(self) -> float | None:
        """What the work says is left (a training: never more than its budget's remainder), else
        a straight-line estimate from the fraction done (None until there is something to go on)."""
        f = self.status.fraction
        if not self.running:
            return None
        if self.status.ends_at is not None:
            return max(0.0, self.status.ends_at - time.time())
        if f < 0.02:
            return None
        return self.seconds * (1 - f) / f

    def progress_lines(self) -> list[dict[str, Any]]:
        """Every progress event written so far (a torn last line is skipped)."""
        return read_progress(self.dir)

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the job's log."""
        path = self.dir / LOG
        if not path.is_file():
            return ""
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - chars))
            return fh.read().decode("utf-8", "replace")


def new_job_id(kind: str) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{check_id(kind, 'job kind')}-{os.urandom(3).hex()}"


def write_status(job_dir: Path, status: JobStatus) -> None:
    atomic_write_json(Path(job_dir) / STATUS, asdict(status))


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_spec(job_dir: Path) -> JobSpec | None:
    raw = read_json(Path(job_dir) / SPEC)
    if raw is None or not isinstance(raw.get("kind"), str) or not isinstance(raw.get("guide"), str):
        return None
    params = raw.get("params")
    return JobSpec(raw["kind"], raw["guide"], params if isinstance(params, dict) else {})


def read_status(job_dir: Path) -> JobStatus:
    raw = read_json(Path(job_dir) / STATUS)
    return JobStatus.from_dict(raw) if raw else JobStatus(state="failed", error="status.json is missing")


def read_progress(job_dir: Path) -> list[dict[str, Any]]:
    path = Path(job_dir) / PROGRESS
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue  # the line being written right now
        if isinstance(item, dict):
            out.append(item)
    return out


# --- which process is the job's -----------------------------------------------------------------
def process_start_ticks(pid: int) -> int | None:
    """The process' start time (clock ticks since boot), or None if there is no such live process.

    A zombie (finished, not yet reaped) counts as gone.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def write_process(job_dir: Path, pid: int) -> None:
    """Record which process runs the job (pid and its start time)."""
    atomic_write_json(Path(job_dir) / PROCESS, {"pid": pid, "start_ticks": process_start_ticks(pid)})


@dataclass(frozen=True)
class JobProcess:
    """Whether the process ``process.json`` names is the job's own, running now.

    ``pid`` is set only for that very process (same pid, same start time, running this job's
    folder, leading its own process group); ``problem`` says why a recorded process is not
    taken for the job's, when it is not simply gone.
    """

    pid: int | None = None
    problem: str | None = None


def job_process_check(job_dir: Path) -> JobProcess:
    """Check the process ``process.json`` names against the live one with that pid."""
    job_dir = Path(job_dir)
    if not (job_dir / PROCESS).exists():
        return JobProcess()
    raw = read_json(job_dir / PROCESS)
    pid = raw.get("pid") if raw else None
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
        return JobProcess(problem="process.json is damaged (no valid pid)")
    _reap(pid)
    ticks = raw.get("start_ticks") if raw else None
    live = process_start_ticks(pid)
    if not isinstance(ticks, int) or isinstance(ticks, bool):
        if live is None:
            return JobProcess()
        return JobProcess(
            problem=f"process.json names pid {pid} without its start time, so it cannot be told apart "
            "from another program that got the same pid"
        )
    if live is None:
        return JobProcess()  # ended
    if live != ticks:
        return JobProcess(problem=f"pid {pid} now belongs to another program (started at another time)")
    if not _runs_job(pid, job_dir):
        return JobProcess(problem=f"pid {pid} is not running this job (its command line is another)")
    try:
        if os.getpgid(pid) != pid:
            return JobProcess(problem=f"pid {pid} does not lead its own process group, as a job does")
    except ProcessLookupError:
        return JobProcess()
    return JobProcess(pid=pid)


def job_process(job_dir: Path) -> int | None:
    """The pid of the job's process if that very process still runs."""
    return job_process_check(job_dir).pid


def _runs_job(pid: int, job_dir: Path) -> bool:
    """Whether the process' command line is ``... smartlens job run --dir <job_dir>``."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
        cwd = Path(os.readlink(f"/proc/{pid}/cwd"))
    except OSError:
        return False
    for i, arg in enumerate(args[:-1]):
        if arg == "--dir" and "job" in args[:i] and "run" in args[:i]:
            return ((cwd / args[i + 1]).resolve()) == job_dir.resolve()
    return False


def _reap(pid: int) -> None:
    """Collect a finished child of this process, so it is not left a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child (started by an earlier studio): init reaps it
    except OSError:
        pass
