"""The balanced gthread worker prefers to listen while it has a free thread (financetracker/gunicorn_worker.py),
so the shared socket hands a burst of connections to the workers in turn instead of all to one; a saturated
worker still takes a queued connection now and then, so no connection waits in the queue for ever."""

from __future__ import annotations

from typing import Any

import pytest

from financetracker import gunicorn_worker
from financetracker.gunicorn_worker import ACCEPT_WHEN_BUSY_EVERY, BalancedThreadWorker


class Listening(BalancedThreadWorker):
    """The worker's accounting only: no sockets, no thread pool, no poller."""

    def __init__(self, threads: int) -> None:
        self.cfg: Any = type("Cfg", (), {"threads": threads})()
        self.in_flight = 0
        self.saturated_since: float | None = None
        self.nr_conns = 0
        self._accepting = False
        self.submitted: list[object] = []

    # ThreadWorker's own versions need the pool and the poller; these stand in for them.
    def _submit(self, conn: object) -> None:
        self.submitted.append(conn)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    import gunicorn.workers.gthread as gthread

    def fake_set_accept_enabled(self: Any, enabled: bool) -> None:
        self._accepting = enabled

    monkeypatch.setattr(gthread.ThreadWorker, "set_accept_enabled", fake_set_accept_enabled)
    monkeypatch.setattr(gthread.ThreadWorker, "enqueue_req", lambda self, conn: self._submit(conn))
    monkeypatch.setattr(gthread.ThreadWorker, "finish_request", lambda self, conn, fs: None)
    fake = Clock()
    monkeypatch.setattr(gunicorn_worker.time, "monotonic", fake)
    return fake


def test_stops_listening_while_every_thread_is_busy_and_resumes_when_one_is_free(clock: Clock) -> None:
    worker = Listening(threads=2)
    worker.set_accept_enabled(True)  # the poller loop, at start
    assert worker._accepting
    worker.enqueue_req("a")
    assert worker._accepting  # one thread still free
    worker.enqueue_req("b")
    assert not worker._accepting  # both busy: the next connection waits in the shared queue
    worker.set_accept_enabled(True)  # the loop asks again on its next turn: still busy, still not listening
    assert not worker._accepting
    worker.enqueue_req("c")  # a kept-alive connection's next request still runs here (queued for a thread)
    worker.finish_request("a", None)
    worker.set_accept_enabled(True)
    assert not worker._accepting  # "b" and "c" still hold both threads
    worker.finish_request("b", None)
    worker.set_accept_enabled(True)
    assert worker._accepting  # one thread free again: listening
    assert worker.submitted == ["a", "b", "c"]


def test_a_saturated_worker_still_takes_a_queued_connection_after_an_interval(clock: Clock) -> None:
    """More kept-alive clients than threads keep every thread busy for good: the queue must still drain."""
    worker = Listening(threads=2)
    worker.nr_conns = 2
    worker.set_accept_enabled(True)
    worker.enqueue_req("a")
    worker.enqueue_req("b")
    assert not worker._accepting
    clock.now += ACCEPT_WHEN_BUSY_EVERY / 2
    worker.set_accept_enabled(True)
    assert not worker._accepting  # a free worker elsewhere gets the first chance
    clock.now += ACCEPT_WHEN_BUSY_EVERY
    worker.set_accept_enabled(True)
    assert worker._accepting  # still saturated, but the queued connection has waited long enough
    worker.nr_conns = 3
    worker.enqueue_req("c")  # the connection it took: listening stops for another interval
    assert not worker._accepting
    worker.set_accept_enabled(True)
    assert not worker._accepting


def test_the_worker_holding_more_connections_waits_longer(clock: Clock) -> None:
    """Of two saturated workers, the one with fewer connections takes the next queued one."""
    light, heavy = Listening(threads=2), Listening(threads=2)
    light.nr_conns, heavy.nr_conns = 2, 8
    for worker in (light, heavy):
        worker.set_accept_enabled(True)
        worker.enqueue_req("a")
        worker.enqueue_req("b")
    clock.now += ACCEPT_WHEN_BUSY_EVERY * 1.5
    light.set_accept_enabled(True)
    heavy.set_accept_enabled(True)
    assert light._accepting
    assert not heavy._accepting
    clock.now += ACCEPT_WHEN_BUSY_EVERY * 3
    heavy.set_accept_enabled(True)
    assert heavy._accepting


def test_a_free_thread_ends_the_saturated_interval(clock: Clock) -> None:
    worker = Listening(threads=1)
    worker.enqueue_req("a")
    assert worker.saturated_since == clock.now
    worker.finish_request("a", None)
    assert worker.saturated_since is None
    worker.set_accept_enabled(True)
    assert worker._accepting
