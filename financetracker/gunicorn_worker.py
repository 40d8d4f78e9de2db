"""gunicorn's threaded worker, preferring to take new connections while it has a free thread.

The workers share one listening socket (gunicorn.conf.py explains why not `reuse_port`). gthread accepts
while it holds fewer than `worker_connections` (1,000) connections, busy or not, so whichever worker woke
first took every connection of a burst and kept it alive: issue #17 saw all 8 of wrk's connections on one
worker and the other core idle. Here a worker whose threads are all busy stops listening, so the kernel's
queue hands the next connection to a worker that can start on it now.

Not listening at all while busy starved connections instead: with more kept-alive clients than threads,
the clients already accepted send their next request as soon as a response ends, the threads never all
come free, and a connection in the queue waited seconds (wrk at 32 connections on 2 x 4 threads: four
timed out at 2 s, the others' mean latency was half what Little's law gives for the rate, because only
half the connections were being served). So a saturated worker still takes one queued connection every
`ACCEPT_WHEN_BUSY_EVERY` seconds per thread's worth of connections it holds: a free worker still wins
every connection it can start on at once, of two saturated workers the one holding fewer connections wins
the next, and no connection waits in the queue longer than a few of those intervals. Connections are never refused or
reset: they wait in the shared queue, or in the worker's own first-come-first-served queue for a thread.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

# Long enough that a worker with a free thread (which accepts at once) takes the connections of a burst,
# short enough that a queue of a few dozen connections drains in well under a second.
ACCEPT_WHEN_BUSY_EVERY = 0.005


class BalancedThreadWorker(ThreadWorker):
    # All methods run on the worker's main thread (the poller loop), so the counters need no lock.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = 0
        self.saturated_since: float | None = None

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if self.in_flight >= self.cfg.threads:
            if self.saturated_since is None or self._accepting:
                # Newly saturated, or it just took a queued connection while saturated: the next one
                # waits at least another interval.
                self.saturated_since = time.monotonic()
            self.set_accept_enabled(False)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        if self.in_flight < self.cfg.threads:
            self.saturated_since = None
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        # The poller loop calls this with `nr_conns < worker_connections` on every turn while the
        # listener is off, so accepting resumes on the first turn after a thread frees up or the
        # saturated interval has passed.
        super().set_accept_enabled(enabled and self._may_accept())

    def _may_accept(self) -> bool:
        if self.in_flight < self.cfg.threads:
            return True
        return self.saturated_since is not None and time.monotonic() - self.saturated_since >= self._busy_interval()

    def _busy_interval(self) -> float:
        # A worker holding more connections per thread waits longer, so of two saturated workers the one
        # with fewer connections takes the queued one: kept-alive connections end up spread evenly.
        return ACCEPT_WHEN_BUSY_EVERY * max(1.0, self.nr_conns / self.cfg.threads)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        # While saturated with the listener off, wake up when the interval ends rather than only at the
        # next request's end or the loop's one-second tick.
        # (Not while stopping: the listener stays off then, and the loop would spin.)
        if self.alive and self.saturated_since is not None and not self._accepting:
            timeout = min(timeout, max(self._busy_interval() - (time.monotonic() - self.saturated_since), 0.0))
        super().wait_for_and_dispatch_events(timeout)
