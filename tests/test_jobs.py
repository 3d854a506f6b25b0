"""Jobs run as processes of the CLI: a lock refuses a second one, cancel and SIGKILL end them
visibly, and a fresh process (a restarted studio) finds them again."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from test_studio import studio

from smartlens.guide import save_guide
from smartlens.jobs import JobBusyError, JobSpec, cancel_job, get_job, jobs_dir, list_jobs, start_job
from smartlens.jobs.manager import UnverifiedProcessError
from smartlens.jobs.record import process_start_ticks

from conftest import ROOT, TEST_ENV
from conftest import SESSION_SETTINGS as SETTINGS


@pytest.fixture
def guide(demo_guide, request):
    name = "jb-" + request.node.name.replace("_", "-")[5:35].strip("-").lower()
    files = {a.image: demo_guide.path(a.image) for a in demo_guide.guide.artworks}
    return save_guide(
        dataclasses.replace(demo_guide.guide, name=name), SETTINGS.guides / name, files=files, replace=True
    ).guide.name


def long_views(guide: str):
    # many views: runs long enough to be seen running, refused, cancelled or killed
    return start_job(JobSpec("views", guide, {"per_image": 400, "negatives": 0, "workers": 1}), SETTINGS)


def wait_running(job_id: str, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if get_job(job_id, SETTINGS).status.state == "running":
            return
        time.sleep(0.2)
    raise AssertionError(get_job(job_id, SETTINGS).log_tail())


def test_lock_refuses_a_second_job_and_cancel_frees_it(guide):
    job = long_views(guide)
    wait_running(job.id)
    with pytest.raises(JobBusyError, match="already running"):
        long_views(guide)
    # a restarted studio (another process) finds the running job
    out = subprocess.run(
        [sys.executable, "-m", "smartlens", "job", "list", "--guide", guide],
        capture_output=True,
        text=True,
        env={**os.environ, **TEST_ENV},
        cwd=ROOT,
        timeout=60,
    ).stdout
    assert job.id in out and "running" in out
    done = cancel_job(job.id, SETTINGS, grace_s=5)
    assert done.state == "cancelled" and not done.alive
    again = long_views(guide)  # the lock went with the process
    cancel_job(again.id, SETTINGS, grace_s=2)


def test_a_job_killed_with_sigkill_is_shown_failed_with_its_log(guide):
    job = long_views(guide)
    wait_running(job.id)
    pid = json.loads((job.dir / "process.json").read_text())["pid"]
    os.killpg(pid, signal.SIGKILL)
    deadline = time.time() + 20
    while get_job(job.id, SETTINGS).alive and time.time() < deadline:
        time.sleep(0.1)
    seen = get_job(job.id, SETTINGS)
    assert seen.state == "failed" and "without reporting" in (seen.status.error or "")
    assert "views on guide" in seen.log_tail()
    assert [j.id for j in list_jobs(SETTINGS, guide)] == [job.id]
    assert json.loads((job.dir / "status.json").read_text())["state"] == "failed"  # saved, not only shown
    # and the studio's page says so, with the log at hand
    at = studio("views.py", guide=guide)
    assert any(m.value.startswith("**failed**") for m in at.markdown), [m.value for m in at.markdown]
    assert any("without reporting" in e.value for e in at.error), [e.value for e in at.error]
    assert any(x.label == "Log" for x in at.expander) and not any(b.label == "Cancel" for b in at.button)


# --- which process is the job's: a tampered or stale folder never gets a signal ---------------------
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smartlens", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **TEST_ENV},
        cwd=ROOT,
        timeout=120,
    )


def _forged_job(name: str, process: dict, message: str = "working") -> str:
    """A job folder that says "running" and names ``process`` as its own (as an old or edited one may)."""
    job_dir = jobs_dir(SETTINGS) / name
    job_dir.mkdir(parents=True)
    (job_dir / "spec.json").write_text(json.dumps({"kind": "views", "guide": "demo", "params": {}}))
    (job_dir / "status.json").write_text(
        json.dumps({"state": "running", "message": message, "created": time.time(), "started": time.time()})
    )
    (job_dir / "process.json").write_text(json.dumps(process))
    return name


@pytest.mark.parametrize("record", ["no start time", "another start time", "its real start time"])
def test_cancel_never_signals_a_process_the_job_did_not_start(record):
    # an unrelated program, leading its own process group as a job's process does
    other = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        ticks = process_start_ticks(other.pid)
        assert ticks is not None
        process = {
            "no start time": {"pid": other.pid},
            "another start time": {"pid": other.pid, "start_ticks": ticks - 1},
            "its real start time": {"pid": other.pid, "start_ticks": ticks},  # copied: not its command
        }[record]
        job_id = _forged_job(f"forged-{record.replace(' ', '-')}", process)
        with pytest.raises(UnverifiedProcessError, match="nothing was signalled") as err:
            cancel_job(job_id, SETTINGS, grace_s=1)
        assert str(other.pid) in str(err.value)
        out = _cli("job", "cancel", job_id, "--grace", "1")  # the command line says so too
        assert out.returncode == 2 and out.stderr.startswith("error: job ") and "Traceback" not in out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        time.sleep(1.5)  # past the grace a SIGKILL would have followed
        assert other.poll() is None, "the unrelated process was signalled"
        job = get_job(job_id, SETTINGS)  # and the job is not taken for running
        assert not job.alive and job.state == "failed"
    finally:
        other.kill()
        other.wait()


def test_job_list_prints_stored_text_without_terminal_controls():
    _forged_job(
        "ansi-status", {"pid": 2**22 + 7, "start_ticks": 1}, message="\x1b[2J\x1b]0;owned\x07 \u202eevil"
    )
    out = _cli("job", "list")
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("ansi-status"))
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "\u202e" not in out.stdout
    assert "\\x1b[2J\\x1b]0;owned\\x07 \\u202eevil" in line, line


# --- parameters and guide, checked before anything starts ---------------------------------------
@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["train", "--guide", "demo", "--param", "budget_minutes=abc"],
            "budget_minutes: Input should be a valid number",
        ),
        (
            ["train", "--guide", "demo", "--param", "epochs=-5"],
            "epochs: Input should be greater than or equal to 1",
        ),
        (["train", "--guide", "demo", "--param", "rm_rf=yes"], "rm_rf: Unexpected keyword argument"),
        (["train", "--guide", "demo", "--param", "epochs=NaN"], "epochs: Input should be a finite number"),
        (["train", "--guide", "demo", "--param", "method=retrieval"], "retrieval needs no training"),
        (
            ["train", "--guide", "demo", "--param", "method=detection", "--param", "frozen_features=true"],
            "frozen_features: Unexpected keyword argument",
        ),
        (
            ["views", "--guide", "demo", "--param", "preset=wild"],
            "preset: Input should be 'light', 'medium' or",
        ),
        (
            ["index", "--guide", "demo", "--param", "mode=fast"],
            "mode: 'fast' is not one of verified, baseline",
        ),
        (["train", "--guide", "nosuch"], "no guide"),
        (["views", "--guide", "nosuch"], "no guide"),
    ],
)
def test_job_start_refuses_bad_parameters_before_starting(demo_guide, args, words):
    before = sorted(p.name for p in jobs_dir(SETTINGS).glob("*")) if jobs_dir(SETTINGS).is_dir() else []
    out = _cli("job", "start", *args)
    assert out.returncode == 2 and "Traceback" not in out.stderr, (out.returncode, out.stderr)
    assert out.stderr.startswith("error: ") and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert words in out.stderr, out.stderr
    after = sorted(p.name for p in jobs_dir(SETTINGS).glob("*")) if jobs_dir(SETTINGS).is_dir() else []
    assert after == before  # no job folder left
