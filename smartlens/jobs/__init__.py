"""Long work (training views, indexes, training) as separate processes of SmartLens' own CLI.

- :mod:`.record`: one job's folder under ``data/jobs/<id>/`` (spec, status, progress, log);
- :mod:`.manager`: start (with a per kind-and-guide lock), list, find again, cancel;
- :mod:`.runner`: what runs inside the job's process.

The studio only starts and reads jobs: a page reload or a studio restart loses nothing.
"""

from __future__ import annotations

from .manager import KINDS, JobBusyError, cancel_job, get_job, list_jobs, read_job, start_job
from .record import Job, JobSpec, JobStatus, jobs_dir

__all__ = [
    "KINDS",
    "Job",
    "JobBusyError",
    "JobSpec",
    "JobStatus",
    "cancel_job",
    "get_job",
    "jobs_dir",
    "list_jobs",
    "read_job",
    "start_job",
]
