"""Long measurements as background jobs: a page starts one and polls its progress instead of freezing while it runs.

One thread per job, kept in a process-wide table by key, so a job started by one browser session keeps running when
the user leaves the page and any session can see its progress; results land in the disk cache (``api``), so the job
only needs to report progress, success or the error message. No streamlit here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

_JOBS: dict[str, "Job"] = {}
_LOCK = threading.Lock()


@dataclass
class Job:
    """state: "running", "done" or "error"; frac in [0, 1]; message: the latest progress text or the error."""

    key: str
    state: str = "running"
    frac: float = 0.0
    message: str = "starting"
    started: float = field(default_factory=time.monotonic)
    result: Any = None

    def update(self, frac: float, message: str) -> None:
        self.frac, self.message = max(0.0, min(1.0, float(frac))), str(message)


def start(key: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Job:
    """Run ``fn(*args, progress=job.update, **kw)`` in a thread under ``key``, unless a job with that key is already
    running or done (then that job is returned). A ValueError ends the job in state "error" with its message;
    anything else too (with the exception's type), so a page can show it."""
    with _LOCK:
        job = _JOBS.get(key)
        if job is not None and job.state != "error":
            return job
        job = _JOBS[key] = Job(key)

    def run() -> None:
        try:
            job.result = fn(*args, progress=job.update, **kw)
            job.update(1.0, "done")
            job.state = "done"
        except ValueError as e:
            job.message, job.state = str(e), "error"
        except Exception as e:  # noqa: BLE001 (reported to the page instead of dying silently in the thread)
            job.message, job.state = f"{type(e).__name__}: {e}", "error"

    threading.Thread(target=run, name=f"rope-viz job {key[:40]}", daemon=True).start()
    return job


def get(key: str) -> Job | None:
    """The job started under ``key``, or None."""
    return _JOBS.get(key)


def forget(key: str) -> None:
    """Drop a finished job from the table."""
    with _LOCK:
        job = _JOBS.get(key)
        if job is not None and job.state != "running":
            del _JOBS[key]
