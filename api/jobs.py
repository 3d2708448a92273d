"""Background jobs (large file scoring, retraining): ids, status, result files.

Limits, on purpose simple: jobs live in this process's memory and run one at a time on one
worker thread (scoring a big file already uses every core through ``churn.batch``; training does
too). Each API process keeps its files in its own folder ``<data>/api-jobs/<run id>/``, removed
when it stops; a restart forgets the jobs (folders left by a process that was killed are removed
by the next start once they are a day old). Only the last ``max_jobs`` finished jobs are kept (older ones and their files are
deleted). A job is visible to the key that created it and to admin keys.
"""
from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

log = logging.getLogger("churn.api")

#: Job folders older than this (left by a killed process) are removed at start-up.
STALE_SECONDS = 24 * 3600


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Job:
    id: str
    kind: str
    owner: str
    folder: Path
    status: str = "queued"
    created: str = field(default_factory=_now)
    started: str | None = None
    finished: str | None = None
    message: str | None = None
    result: dict | None = None
    files: dict[str, Path] = field(default_factory=dict)


class Jobs:
    """The job registry and its worker thread."""

    def __init__(self, base: Path, max_jobs: int = 50):
        base = Path(base)
        if base.is_dir():
            stale = time.time() - STALE_SECONDS
            for old in base.iterdir():
                try:
                    if old.is_dir() and old.stat().st_mtime < stale:
                        shutil.rmtree(old, ignore_errors=True)
                except OSError:
                    pass
        self.root = base / uuid.uuid4().hex[:12]
        self.max_jobs = max_jobs
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="churn-api-job")

    def new(self, kind: str, owner: str) -> Job:
        """A queued job with its own folder."""
        job_id = uuid.uuid4().hex[:16]
        folder = self.root / job_id
        folder.mkdir(parents=True, exist_ok=True)
        job = Job(id=job_id, kind=kind, owner=owner, folder=folder)
        with self._lock:
            self._jobs[job_id] = job
            self._prune()
        return job

    def start(self, job: Job, work: Callable[[Job], dict], *, user_error=(ValueError,)):
        """Run ``work(job)`` on the worker thread; its dict becomes ``job.result``. A
        ``user_error`` ends the job "failed" with its message; anything else is logged with a
        reference code the job's message quotes."""
        return self._pool.submit(self.run, job, work, user_error=user_error)

    def run(self, job: Job, work: Callable[[Job], dict], *, user_error=(ValueError,)) -> None:
        """Run a job in the calling thread (small files are scored at once, not queued)."""
        job.status, job.started = "running", _now()
        try:
            job.result = work(job)
            job.status = "done"
        except user_error as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - a job must never die silently
            ref = uuid.uuid4().hex[:8]
            log.error("job %s (%s) failed (reference %s)", job.id, job.kind, ref,
                      exc_info=exc)
            job.status = "failed"
            job.message = (f"The job failed unexpectedly; quote reference {ref} to your "
                           "administrator (details are in the server log).")
        job.finished = _now()

    def discard(self, job: Job) -> None:
        """Forget a job that never ran, with its folder."""
        with self._lock:
            self._jobs.pop(job.id, None)
        shutil.rmtree(job.folder, ignore_errors=True)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _prune(self) -> None:
        done = [j for j in self._jobs.values() if j.status in ("done", "failed")]
        for job in done[:max(0, len(done) - self.max_jobs)]:
            self._jobs.pop(job.id, None)
            shutil.rmtree(job.folder, ignore_errors=True)

    def shutdown(self) -> None:
        """Stop taking jobs and remove this process's job files (a running job is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)
