"""The first start of a data folder, once per process, in the background.

Preparing a fresh data folder (`scoring.Engine.prepare`: train the churn models, fit the survival
model, the recommender and the uplift model) takes a minute or more. Run inside one page's script
run, it restarted from scratch whenever the user went to another page (Streamlit stops the run),
and two browser sessions trained twice. `SharedPreparation.start(paths)` instead runs it once per
data folder in a background thread of the server process; every caller (any page, any session)
gets the same job and can show its progress (``fraction`` 0..1 and a plain ``message``) until it
is ``done``. A failed job keeps its ``error`` for the callers waiting on it; the next `start`
tries again.
"""
from __future__ import annotations

import threading

from churn.config import Paths


class SharedPreparation:
    """One background `Engine.prepare` of a data folder (see the module docstring).

    Attributes: fraction (0..1), message (what it is doing, in plain words), error (the
    exception it ended with, or None); ``done`` is a ``threading.Event`` set when it ends.
    """

    _lock = threading.Lock()
    _jobs: dict[str, "SharedPreparation"] = {}

    def __init__(self, paths: Paths):
        self.paths = paths
        self.fraction = 0.0
        self.message = "Starting"
        self.error: BaseException | None = None
        self.done = threading.Event()

    @classmethod
    def start(cls, paths: Paths) -> "SharedPreparation":
        """The running (or just finished) job of ``paths``' data folder, started when there is
        none or the last one failed."""
        key = str(paths.data_dir)
        with cls._lock:
            job = cls._jobs.get(key)
            if job is None or (job.done.is_set() and job.error is not None):
                job = cls._jobs[key] = cls(paths)
                threading.Thread(target=job._run, name=f"prepare {key}", daemon=True).start()
            return job

    @classmethod
    def forget(cls, paths: Paths) -> None:
        """Drop a finished job of the folder (a later change of its data starts a new one)."""
        with cls._lock:
            job = cls._jobs.get(str(paths.data_dir))
            if job is not None and job.done.is_set():
                del cls._jobs[str(paths.data_dir)]

    def _progress(self, fraction: float, message: str) -> None:
        self.fraction = min(max(float(fraction), 0.0), 1.0)
        self.message = str(message)

    def _run(self) -> None:
        from churn.scoring import Engine

        try:
            Engine.prepare(self.paths, self._progress)
        except BaseException as exc:  # noqa: BLE001 - kept for the callers, who re-raise it
            self.error = exc
        finally:
            self.done.set()

    def wait(self, on_progress=None, poll: float = 0.5) -> None:
        """Block until the job ends, calling ``on_progress(fraction, message)`` about every
        ``poll`` seconds; re-raise the job's error, if any."""
        while not self.done.wait(poll):
            if on_progress is not None:
                on_progress(self.fraction, self.message)
        if self.error is not None:
            raise self.error
