"""The balanced gthread worker listens only while it has a free thread (financetracker/gunicorn_worker.py),
so the shared socket hands a burst of connections to the workers in turn instead of all to one."""

from __future__ import annotations

from typing import Any

from financetracker.gunicorn_worker import BalancedThreadWorker


class Listening(BalancedThreadWorker):
    """The worker's accounting only: no sockets, no thread pool, no poller."""

    def __init__(self, threads: int) -> None:
        self.cfg: Any = type("Cfg", (), {"threads": threads})()
        self.in_flight = 0
        self._accepting = False
        self.submitted: list[object] = []

    # ThreadWorker's own versions need the pool and the poller; these stand in for them.
    def _submit(self, conn: object) -> None:
        self.submitted.append(conn)


def test_stops_listening_while_every_thread_is_busy_and_resumes_when_one_is_free(monkeypatch: Any) -> None:
    import gunicorn.workers.gthread as gthread

    toggles: list[bool] = []

    def fake_set_accept_enabled(self: Any, enabled: bool) -> None:
        toggles.append(enabled)
        self._accepting = enabled

    monkeypatch.setattr(gthread.ThreadWorker, "set_accept_enabled", fake_set_accept_enabled)
    monkeypatch.setattr(gthread.ThreadWorker, "enqueue_req", lambda self, conn: self._submit(conn))
    monkeypatch.setattr(gthread.ThreadWorker, "finish_request", lambda self, conn, fs: None)

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
