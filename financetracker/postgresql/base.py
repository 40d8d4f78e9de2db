"""django-prometheus's PostgreSQL backend, whose per-request health check asks the socket, not the server.

Django's `CONN_HEALTH_CHECKS` runs `SELECT 1` before the first statement of every request that reuses a
persistent connection: a round trip per request, on every API call (bench/README.md, issue #17). A
connection PostgreSQL dropped — a restart, `pg_terminate_backend`, the server killed — has a socket the
kernel marks readable (the server's FATAL message, or end-of-file), while an idle live connection has
nothing to read. So the check polls the socket without waiting: nothing to read means alive; something
to read (or a connection psycopg already knows is broken) falls back to Django's own `SELECT 1`, which
decides. A dead connection is then replaced before the request's first statement, as before.

A silently vanished peer (no FIN or RST, a network partition) is not seen here — nor was it by `SELECT 1`
before its TCP timeout; the bearer look-up retries once on a fresh connection (ledger/services/tokens.py)
for the API, and Django closes any connection that failed a request at its end.
"""

from __future__ import annotations

import select

from django_prometheus.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_done: bool  # BaseDatabaseWrapper's, untyped there

    def close_if_health_check_failed(self) -> None:
        if self.pool or self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self._looks_alive() and not self.is_usable():
            self.close()
        self.health_check_done = True

    def _looks_alive(self) -> bool:
        """True when nothing suggests the connection died: open, idle, and nothing waiting on its socket."""
        raw = self.connection
        if raw is None or raw.closed or raw.broken or raw.info.transaction_status != TransactionStatus.IDLE:
            return False
        try:
            readable, _, _ = select.select([raw.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable
