"""gunicorn's threaded worker, taking new connections only while it has a free thread.

The workers share one listening socket (gunicorn.conf.py explains why not `reuse_port`). gthread accepts
while it holds fewer than `worker_connections` (1,000) connections, busy or not, so whichever worker woke
first took every connection of a burst and kept it alive: issue #17 saw all 8 of wrk's connections on one
worker and the other core idle. Here a worker whose threads are all busy stops listening until one is free,
so the kernel's queue hands the next connection to a worker that can start on it now. Connections are
never refused or reset: they wait in the shared queue, as they would for a busy thread.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    # All three methods run on the worker's main thread (the poller loop), so `in_flight` needs no lock.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_flight = 0

    def enqueue_req(self, conn: Any) -> None:
        self.in_flight += 1
        super().enqueue_req(conn)
        if self.in_flight >= self.cfg.threads:
            self.set_accept_enabled(False)

    def finish_request(self, conn: Any, fs: Any) -> None:
        self.in_flight -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        # The poller loop calls this with `nr_conns < worker_connections` on every turn, so accepting
        # resumes on the first turn after a thread frees up.
        super().set_accept_enabled(enabled and self.in_flight < self.cfg.threads)
