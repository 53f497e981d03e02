"""Heavy work a visitor can start, bounded per server process: one job at a time, the others queued (with their place
in the queue and the running job's progress), results cached and shared.

The Kernel page's CPU benchmark with ``torch.compile`` takes about a minute and a real-model run can take longer; on a
server shared by a team, two visitors pressing "Run" at once would each get half a machine, and twenty would stall every
page. A :class:`JobQueue` runs the jobs in ONE worker thread, in submission order. Jobs are identified by a hashable
``key`` (what the result depends on, e.g. ``("kernel-bench", (128, 256), ("ours", "hf-eager"))``): asking for a key that
is queued or running joins that job; asking for a finished key returns the cached result at once (a bounded LRU with an
optional time to live). Failed and cancelled jobs are not cached, so the next request runs them again.

The job function is called as ``fn(*args, progress=report, **kwargs)``, where ``report(fraction, message)`` updates the
progress shown to every waiting session; it also raises :class:`Cancelled` when the job was cancelled or ran past
``max_run_s``, so a long loop that reports progress stops there (Python cannot stop a thread from outside). Results
are shared by every session that asks for the key: treat them as read-only.

This module does not import streamlit; a page polls the job::

    job = jobs.submit(("kernel-bench", sizes, methods), run_benchmark, sizes, methods=methods)
    bar = st.progress(0.0)
    result = jobs.wait(job, lambda j: bar.progress(j.progress, text=j.status_text()))

The process-wide queue (:func:`default_queue`) holds at most ``MAX_QUEUED`` waiting jobs (:class:`QueueFull` beyond) and
``MAX_RESULTS`` results.
"""

from __future__ import annotations

import collections
import threading
import time
from typing import Any, Callable, Hashable

MAX_QUEUED = 8          # waiting jobs per server process; one more raises QueueFull
MAX_RESULTS = 32        # finished results kept (least recently used dropped first)
MAX_RUN_S = 900.0       # a job that reports progress after this long is stopped (Cancelled)

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"


class QueueFull(RuntimeError):
    """Too many jobs are waiting; the message says how many and asks to try again later."""


class Cancelled(Exception):
    """Raised inside a job (by its progress callback) after cancel() or past the queue's max_run_s."""


class Job:
    """A handle on one queued, running or finished job. Read its fields; ``wait`` / ``result`` block."""

    def __init__(self, queue: "JobQueue", key: Hashable, fn: Callable[..., Any], args: tuple, kwargs: dict):
        self.key = key
        self.state = QUEUED
        self.progress = 0.0                # 0…1, as last reported by the job
        self.message = ""                  # the job's last progress message
        self.error: BaseException | None = None
        self.cached = False                # True when this handle came from the results cache
        self.submitted_at = time.monotonic()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self._queue = queue
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._value: Any = None
        self._done = threading.Event()
        self._cancel = threading.Event()

    @property
    def done(self) -> bool:
        """Finished (done, failed or cancelled)."""
        return self._done.is_set()

    @property
    def position(self) -> int:
        """0 while running or finished, k ≥ 1 while k − 1 jobs wait ahead of this one plus the running one."""
        return self._queue._position(self)

    def status_text(self) -> str:
        """One line for a progress bar: the place in the queue, the running job's message, or how it ended."""
        if self.state == QUEUED:
            ahead = self.position
            return (f"waiting: {ahead} job{'s' if ahead != 1 else ''} ahead of this one on this server "
                    "(heavy jobs run one at a time)")
        if self.state == RUNNING:
            return self.message or "running…"
        if self.state == DONE:
            return "done (cached result, shared by everyone who asked for it)" if self.cached else "done"
        if self.state == CANCELLED:
            return f"cancelled: {self.error}" if self.error else "cancelled"
        return f"failed: {type(self.error).__name__}: {self.error}"

    def cancel(self) -> bool:
        """Cancel: a queued job is dropped; a running one stops at its next progress report. False if finished."""
        if self.done:
            return False
        self._cancel.set()
        self._queue._drop_queued(self)
        return True

    def wait(self, timeout: float | None = None) -> bool:
        """Block until finished (or ``timeout`` s); True if finished."""
        return self._done.wait(timeout)

    def result(self, timeout: float | None = None) -> Any:
        """The job's return value; re-raises its exception; TimeoutError if not finished within ``timeout`` s."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"job {self.key!r} not finished within {timeout:g} s")
        if self.state != DONE:
            raise self.error if self.error is not None else Cancelled("cancelled")
        return self._value

    def _report(self, fraction: float, message: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled("cancelled")
        limit = self._queue.max_run_s
        if limit is not None and self.started_at is not None and time.monotonic() - self.started_at > limit:
            raise Cancelled(f"stopped after {limit:g} s (the server's limit for one job)")
        try:
            f = float(fraction)
        except (TypeError, ValueError):
            f = self.progress
        self.progress = min(max(f, 0.0), 1.0) if f == f else self.progress
        self.message = str(message)[:200]

    def __repr__(self) -> str:
        return f"Job({self.key!r}, {self.state}, progress={self.progress:.2f})"


class JobQueue:
    """One worker thread running submitted jobs in order, a bounded wait list and a bounded, shared results cache."""

    def __init__(self, *, max_queued: int = MAX_QUEUED, max_results: int = MAX_RESULTS,
                 result_ttl_s: float | None = None, max_run_s: float | None = MAX_RUN_S):
        if max_queued < 0 or max_results < 0:
            raise ValueError("max_queued and max_results must be ≥ 0")
        self.max_queued = int(max_queued)
        self.max_results = int(max_results)
        self.result_ttl_s = result_ttl_s
        self.max_run_s = max_run_s
        self._lock = threading.Condition()
        self._waiting: collections.deque[Job] = collections.deque()
        self._running: Job | None = None
        self._active: dict[Hashable, Job] = {}                       # key -> queued or running job
        self._results: collections.OrderedDict[Hashable, Job] = collections.OrderedDict()
        self._worker: threading.Thread | None = None
        self._stopping = False

    # -- public -------------------------------------------------------------------------------------------------------
    def submit(self, key: Hashable, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
        """The job for ``key``: the cached result, the queued or running job with that key, or a new queued job
        running ``fn(*args, progress=report, **kwargs)``. Raises QueueFull when ``max_queued`` jobs already wait."""
        hash(key)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the job queue is shut down")
            hit = self._cached(key)
            if hit is not None:
                return hit
            job = self._active.get(key)
            if job is not None:
                return job
            if len(self._waiting) >= self.max_queued:
                raise QueueFull(f"{len(self._waiting)} heavy jobs are already waiting on this server "
                                "(they run one at a time); try again in a minute")
            job = Job(self, key, fn, args, kwargs)
            self._active[key] = job
            self._waiting.append(job)
            self._ensure_worker()
            self._lock.notify_all()
            return job

    def get(self, key: Hashable) -> Job | None:
        """The cached, queued or running job for ``key``, or None (never starts anything)."""
        with self._lock:
            return self._cached(key) or self._active.get(key)

    def stats(self) -> dict[str, Any]:
        """{"running": key or None, "queued": n, "results": n}."""
        with self._lock:
            return {"running": None if self._running is None else self._running.key,
                    "queued": len(self._waiting), "results": len(self._results)}

    def clear_results(self) -> None:
        with self._lock:
            self._results.clear()

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Cancel what waits, ask the running job to stop, and join the worker (up to ``timeout`` s). True if the
        worker ended. The worker is a daemon thread: even a job that never reports progress does not hold up exit."""
        with self._lock:
            self._stopping = True
            for job in list(self._waiting):
                job._cancel.set()
                self._finish(job, CANCELLED, error=Cancelled("the server is stopping"))
            self._waiting.clear()
            if self._running is not None:
                self._running._cancel.set()
            self._lock.notify_all()
            worker = self._worker
        if worker is not None:
            worker.join(timeout)
            return not worker.is_alive()
        return True

    # -- internals ----------------------------------------------------------------------------------------------------
    def _cached(self, key: Hashable) -> Job | None:
        job = self._results.get(key)
        if job is None:
            return None
        if self.result_ttl_s is not None and time.monotonic() - job.finished_at > self.result_ttl_s:
            del self._results[key]
            return None
        self._results.move_to_end(key)
        return job

    def _position(self, job: Job) -> int:
        with self._lock:
            if job.state != QUEUED:
                return 0
            try:
                return self._waiting.index(job) + (1 if self._running is not None else 0)
            except ValueError:
                return 0

    def _drop_queued(self, job: Job) -> None:
        with self._lock:
            if job.state == QUEUED and job in self._waiting:
                self._waiting.remove(job)
                self._finish(job, CANCELLED, error=Cancelled("cancelled"))

    def _finish(self, job: Job, state: str, value: Any = None, error: BaseException | None = None) -> None:
        job.state, job._value, job.error = state, value, error
        job.finished_at = time.monotonic()
        if state == DONE:
            job.progress = 1.0
        if self._active.get(job.key) is job:
            del self._active[job.key]
        if state == DONE and self.max_results > 0:
            cached = Job(self, job.key, job._fn, (), {})
            cached.state, cached._value, cached.progress, cached.cached = DONE, value, 1.0, True
            cached.submitted_at, cached.started_at, cached.finished_at = job.submitted_at, job.started_at, \
                job.finished_at
            cached._done.set()
            self._results[job.key] = cached
            self._results.move_to_end(job.key)
            while len(self._results) > self.max_results:
                self._results.popitem(last=False)
        job._fn, job._args, job._kwargs = None, (), {}             # drop references to the inputs
        job._done.set()

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name="rope-viz-jobs", daemon=True)
            self._worker.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting and not self._stopping:
                    self._lock.wait()
                if self._stopping and not self._waiting:
                    return
                job = self._waiting.popleft()
                job.state, job.started_at = RUNNING, time.monotonic()
                self._running = job
                fn, args, kwargs = job._fn, job._args, job._kwargs
            try:
                value = fn(*args, progress=job._report, **kwargs)
            except Cancelled as e:
                outcome = (CANCELLED, None, e)
            except BaseException as e:  # noqa: BLE001 - the job's failure is the waiting sessions' to show
                outcome = (FAILED, None, e)
            else:
                outcome = (DONE, value, None)
            with self._lock:
                self._running = None
                self._finish(job, *outcome)


def wait(job: Job, on_update: Callable[[Job], Any] | None = None, *, poll_s: float = 0.25,
         timeout: float | None = None) -> Any:
    """Block until ``job`` finishes, calling ``on_update(job)`` every ``poll_s`` s (e.g. to move a progress bar), then
    return its result (re-raising its error). TimeoutError after ``timeout`` s (the job keeps running for others)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not job.wait(poll_s):
        if on_update is not None:
            on_update(job)
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"job {job.key!r} not finished within {timeout:g} s; it keeps running")
    if on_update is not None:
        on_update(job)
    return job.result()


_default: JobQueue | None = None
_default_lock = threading.Lock()


def default_queue() -> JobQueue:
    """The process-wide queue (one per server process, shared by every session)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = JobQueue()
        return _default


def submit(key: Hashable, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Job:
    """``default_queue().submit(key, fn, *args, **kwargs)``."""
    return default_queue().submit(key, fn, *args, **kwargs)
