"""``smartlens job ...``: long work as background processes of this command line."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..config import Settings
from ..errors import UserError
from ..jobs.kinds import KINDS
from .common import Subparsers, handles


def _run(args: argparse.Namespace, settings: Settings) -> int:
    import fcntl

    from ..jobs.manager import JobBusyError, lock_path
    from ..jobs.record import read_spec
    from ..jobs.runner import run_job

    if args.lock_fd is None:  # started by hand: take the job's lock here
        spec = read_spec(Path(args.dir))
        if spec is None:
            raise UserError(f"{args.dir}: not a job folder (no spec.json)")
        lock = lock_path(settings, spec.kind, spec.guide)
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = lock.open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise JobBusyError(f"a {spec.kind} job is already running on guide '{spec.guide}'") from None
    return run_job(Path(args.dir), settings)


def _start(args: argparse.Namespace, settings: Settings) -> int:
    from ..jobs import JobSpec, start_job

    params: dict[str, object] = {}
    for item in args.param or []:
        name, sep, raw = item.partition("=")
        if not sep:
            raise UserError(f"--param {item!r}: expected NAME=VALUE")
        try:
            params[name] = json.loads(raw)
        except ValueError:
            params[name] = raw
    job = start_job(JobSpec(args.kind, args.guide, params), settings)
    print(f"started job {job.id} -> {job.dir}")
    return 0


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from ..escaping import terminal
    from ..jobs import list_jobs

    for job in list_jobs(settings, args.guide):
        metrics = " ".join(
            f"{k}={v}" for k, v in job.status.metrics.items() if not isinstance(v, (dict, list))
        )
        print(
            terminal(f"{job.id}  {job.state:<9} {job.spec.guide}  ")
            + f"{job.status.fraction:4.0%}  "
            + terminal(f"{job.status.message}  {metrics}")
        )
    return 0


def _cancel(args: argparse.Namespace, settings: Settings) -> int:
    from ..escaping import terminal
    from ..jobs import cancel_job, get_job

    was_running = get_job(args.id, settings).running
    job = cancel_job(args.id, settings, args.grace)  # refuses to signal a process it cannot verify
    print(
        terminal(f"job {job.id}: {job.state}" + ("" if was_running else " (not running: nothing to cancel)"))
    )
    return 0


def register(sub: Subparsers) -> None:
    """``job run|start|list|cancel``."""
    jb = sub.add_parser("job", help="long work as processes: start, list, cancel").add_subparsers(
        dest="sub", required=True
    )
    jr = handles(
        jb.add_parser("run", help="run a job folder's work in this process (the studio starts these)"), _run
    )
    jr.add_argument("--dir", required=True, help="the job folder (data/jobs/<id>)")
    jr.add_argument("--lock-fd", type=int, help="the job's lock, already held (passed by the starter)")
    js = handles(jb.add_parser("start", help="start a job in the background"), _start)
    js.add_argument("kind", choices=list(KINDS))
    js.add_argument("--guide", required=True)
    js.add_argument(
        "--param",
        action="append",
        help="NAME=VALUE (JSON values), e.g. method=detection budget_minutes=1; checked before the job starts",
    )
    handles(jb.add_parser("list", help="list jobs, newest first"), _list).add_argument("--guide")
    jc = handles(jb.add_parser("cancel", help="stop a running job (SIGTERM, then SIGKILL)"), _cancel)
    jc.add_argument("id")
    jc.add_argument(
        "--grace",
        type=float,
        default=None,
        help="seconds between SIGTERM and SIGKILL (default: the kind's; 180 for a training)",
    )
