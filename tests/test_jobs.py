"""rope_viz.jobs: one heavy job at a time per process, a bounded wait list, progress, a bounded shared results cache.

The jobs here block on events the test controls, so every assertion is about order and state, never about timing."""

from __future__ import annotations

import threading
import time

import pytest

from rope_viz import jobs

WAIT = 10.0   # generous bound on anything the test waits for (a failure, not a measurement)


class Gate:
    """A job function that records how many jobs run at once and blocks until released."""

    def __init__(self):
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.calls: list[str] = []
        self.release: dict[str, threading.Event] = {}
        self.started: dict[str, threading.Event] = {}

    def event(self, name: str) -> tuple[threading.Event, threading.Event]:
        return (self.release.setdefault(name, threading.Event()), self.started.setdefault(name, threading.Event()))

    def fn(self, name: str, *, progress, value=None):
        release, started = self.event(name)
        with self.lock:
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            self.calls.append(name)
        started.set()
        try:
            progress(0.5, f"{name} half way")
            assert release.wait(WAIT), f"{name} never released"
            return value if value is not None else {"name": name}
        finally:
            with self.lock:
                self.running -= 1


@pytest.fixture
def queue():
    q = jobs.JobQueue(max_queued=4, max_results=2)
    yield q
    q.shutdown(timeout=2)


def test_one_job_at_a_time_in_submission_order(queue):
    g = Gate()
    handles = [queue.submit(("k", n), g.fn, n) for n in "abc"]
    assert g.event("a")[1].wait(WAIT)
    assert [h.state for h in handles] == [jobs.RUNNING, jobs.QUEUED, jobs.QUEUED]
    assert [h.position for h in handles] == [0, 1, 2]
    assert "1 job ahead" in handles[1].status_text() and "2 jobs ahead" in handles[2].status_text()
    for n in "abc":
        g.event(n)[0].set()
    assert all(h.wait(WAIT) for h in handles)
    assert g.calls == ["a", "b", "c"] and g.max_running == 1
    assert [h.result()["name"] for h in handles] == ["a", "b", "c"]


def test_same_key_joins_the_queued_or_running_job_and_the_result_is_shared(queue):
    g = Gate()
    first = queue.submit("bench", g.fn, "a")
    assert g.event("a")[1].wait(WAIT)
    second = queue.submit("bench", g.fn, "a")
    assert second is first                                   # joined, not run twice
    assert (second.progress, second.message) == (0.5, "a half way")   # every waiting session sees the progress
    g.event("a")[0].set()
    value = first.result(WAIT)
    again = queue.submit("bench", g.fn, "a")
    assert again.cached and again.done and again.result() is value    # the cached object itself: read-only by contract
    assert g.calls == ["a"]
    assert "cached" in again.status_text()


def test_results_cache_is_bounded_lru(queue):
    g = Gate()
    for n in "abc":
        g.event(n)[0].set()
        queue.submit(n, g.fn, n).result(WAIT)
    assert queue.stats()["results"] == 2                     # max_results=2: "a" was dropped
    assert queue.get("a") is None and queue.get("c").cached
    queue.submit("a", g.fn, "a").result(WAIT)                # asked again: runs again
    assert g.calls == ["a", "b", "c", "a"]


def test_results_expire_after_their_ttl():
    q = jobs.JobQueue(result_ttl_s=0.05)
    try:
        calls = []
        q.submit("k", lambda *, progress: calls.append(1) or len(calls)).result(WAIT)
        assert q.submit("k", lambda *, progress: calls.append(1) or len(calls)).cached
        time.sleep(0.1)
        assert q.submit("k", lambda *, progress: calls.append(1) or len(calls)).result(WAIT) == 2
    finally:
        q.shutdown(timeout=2)


def test_the_wait_list_is_bounded(queue):
    g = Gate()
    running = queue.submit("run", g.fn, "run")
    assert g.event("run")[1].wait(WAIT)
    waiting = [queue.submit(("w", i), g.fn, f"w{i}") for i in range(queue.max_queued)]
    with pytest.raises(jobs.QueueFull, match="4 heavy jobs are already waiting"):
        queue.submit("one too many", g.fn, "x")
    assert queue.submit(("w", 0), g.fn, "w0") is waiting[0]   # joining an existing job is always allowed
    for n in ["run"] + [f"w{i}" for i in range(queue.max_queued)]:
        g.event(n)[0].set()
    assert running.wait(WAIT) and all(w.wait(WAIT) for w in waiting)


def test_a_failure_is_reported_not_cached_and_retried_on_the_next_request(queue):
    attempts = []

    def flaky(*, progress):
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("seq_lens must be ≤ 2048; got 4096")
        return "ok"

    job = queue.submit("flaky", flaky)
    with pytest.raises(ValueError, match="seq_lens"):
        job.result(WAIT)
    assert job.state == jobs.FAILED and "ValueError" in job.status_text()
    assert queue.submit("flaky", flaky).result(WAIT) == "ok" and len(attempts) == 2


def test_cancel_a_queued_job_and_a_running_one(queue):
    g = Gate()
    running = queue.submit("r", g.fn, "r")
    assert g.event("r")[1].wait(WAIT)
    queued = queue.submit("q", g.fn, "q")
    assert queued.cancel() and queued.state == jobs.CANCELLED and queued.done
    assert queue.stats()["queued"] == 0

    stop = threading.Event()

    def loop(*, progress):
        i = 0
        while True:                                          # only its progress report can stop it
            progress(i % 100 / 100, f"step {i}")
            i += 1
            if i == 3:
                stop.set()
            time.sleep(0.005)

    g.event("r")[0].set()
    running.result(WAIT)
    looping = queue.submit("loop", loop)
    assert stop.wait(WAIT) and looping.cancel()
    with pytest.raises(jobs.Cancelled):
        looping.result(WAIT)
    assert looping.state == jobs.CANCELLED and queue.get("loop") is None
    assert g.calls == ["r"]                                  # the cancelled queued job never ran


def test_a_job_past_max_run_s_is_stopped_at_its_next_progress_report():
    q = jobs.JobQueue(max_run_s=0.05)
    try:
        def forever(*, progress):
            while True:
                progress(0.1, "working")
                time.sleep(0.01)

        job = q.submit("forever", forever)
        with pytest.raises(jobs.Cancelled, match="0.05 s"):
            job.result(WAIT)
    finally:
        q.shutdown(timeout=2)


def test_wait_reports_progress_and_returns_the_result(queue):
    seen = []

    def steps(*, progress):
        for i in range(1, 4):
            progress(i / 3, f"step {i}/3")
            time.sleep(0.03)
        return 42

    assert jobs.wait(queue.submit("steps", steps), lambda j: seen.append((j.state, j.progress)), poll_s=0.01) == 42
    assert seen[-1] == (jobs.DONE, 1.0)
    assert all(0.0 <= p <= 1.0 for _, p in seen)


def test_shutdown_cancels_waiting_jobs_and_refuses_new_ones():
    q = jobs.JobQueue()
    g = Gate()
    running = q.submit("r", g.fn, "r")
    assert g.event("r")[1].wait(WAIT)
    waiting = q.submit("w", g.fn, "w")
    g.event("r")[0].set()
    assert q.shutdown(timeout=WAIT)
    assert waiting.state == jobs.CANCELLED and running.state in (jobs.DONE, jobs.CANCELLED)
    with pytest.raises(RuntimeError, match="shut down"):
        q.submit("x", g.fn, "x")


def test_default_queue_is_one_per_process():
    assert jobs.default_queue() is jobs.default_queue()
    assert jobs.submit("test-default", lambda *, progress: "v").result(WAIT) == "v"
