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
from smartlens.jobs import JobBusyError, JobSpec, cancel_job, get_job, list_jobs, start_job

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
