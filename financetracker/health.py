"""Liveness and readiness endpoints for Kubernetes probes."""

from __future__ import annotations

import logging
import select
import time

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from psycopg import pq
from psycopg.conninfo import make_conninfo

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing, so a database outage never restarts pods."""
    return JsonResponse({"status": "ok"})


# Django's own OPTIONS that are not libpq connection parameters.
_NOT_LIBPQ = {"isolation_level", "server_side_binding", "assume_role", "pool", "cursor_factory", "context"}


class ProbeTimeout(DatabaseError):
    pass


def _wait(pgconn: pq.abc.PGconn, *, write: bool, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ProbeTimeout("database probe timed out")
    sockets = [pgconn.socket]
    ready = select.select([], sockets, [], remaining) if write else select.select(sockets, [], [], remaining)
    if not any(ready):
        raise ProbeTimeout("database probe timed out")


def _probe_database(timeout: float) -> None:
    """`SELECT 1` on a fresh connection, the whole exchange bounded by `timeout` seconds on our side.

    A frozen server (stopped, not gone) still completes the TCP handshake and then never answers: a
    server-side statement_timeout cannot fire and libpq's connect_timeout is at least 2 s, so the probe
    drives libpq without blocking and gives up at its own deadline. It never touches Django's persistent
    connection, which would hang on such a server.
    """
    deadline = time.monotonic() + timeout
    params = connection.settings_dict
    options = {key: value for key, value in params.get("OPTIONS", {}).items() if key not in _NOT_LIBPQ}
    options["connect_timeout"] = max(2, int(timeout) + 1)  # a backstop; our deadline comes first
    settings_params = {
        "dbname": params.get("NAME") or "postgres",
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        "host": params.get("HOST") or None,
        "port": str(params.get("PORT") or "") or None,
        "application_name": "financetracker-readyz",
    }
    # OPTIONS may name libpq parameters too (a socket directory as ?host=… in DATABASE_URL, as the quick
    # start's embedded PostgreSQL gives): they win over empty settings, the way Django's connection does.
    conninfo = make_conninfo(**{**settings_params, **options})
    pgconn = pq.PGconn.connect_start(conninfo.encode())
    try:
        while True:
            if pgconn.status == pq.ConnStatus.BAD:
                raise DatabaseError("database connection failed")
            state = pgconn.connect_poll()
            if state == pq.PollingStatus.OK:
                break
            if state == pq.PollingStatus.FAILED:
                raise DatabaseError("database connection failed")
            _wait(pgconn, write=state == pq.PollingStatus.WRITING, deadline=deadline)
        pgconn.nonblocking = 1
        pgconn.send_query(b"SELECT 1")
        while pgconn.flush():
            _wait(pgconn, write=True, deadline=deadline)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                break
            _wait(pgconn, write=False, deadline=deadline)
        result = pgconn.get_result()
        if result is None or result.status != pq.ExecStatus.TUPLES_OK:
            raise DatabaseError("database probe query failed")
    except (psycopg.Error, OSError) as error:  # libpq refusing to send, a socket closed under us
        raise DatabaseError(error.__class__.__name__) from error
    finally:
        pgconn.finish()


def _pending_migrations() -> list[str]:
    # Every migration the code has and the database has not recorded, gaps included: a plan towards the
    # leaf nodes would miss a middle migration whose successors are recorded.
    loader = MigrationLoader(connection)
    missing = set(loader.graph.nodes) - set(loader.applied_migrations)
    return sorted(f"{app_label}.{name}" for app_label, name in missing)


def _cache_reachable() -> bool:
    # django-redis ignores cache errors by design, so a round trip is the only honest test.
    try:
        stored = cache.set("readyz:probe", "1", timeout=5)  # type: ignore[func-returns-value]  # django-stubs: BaseCache.set returns None; django-redis says if it stored
        if not stored and hasattr(cache, "client"):
            # django-redis answers True for a stored value and None for an ignored error: no second
            # socket timeout waiting for the get (local-memory caches answer None always).
            return False
        return bool(cache.get("readyz:probe") == "1")
    except Exception:  # noqa: BLE001 - any cache failure means degraded, never not-ready
        return False


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and every migration is applied. Redis loss only degrades.

    Answers within READYZ_DATABASE_TIMEOUT (plus the migration check) whether the database is up, gone or
    frozen, so the probe's own timeout never fires first.
    """
    try:
        _probe_database(settings.READYZ_DATABASE_TIMEOUT)
        pending = _pending_migrations()
    except DatabaseError as error:
        logger.warning("readyz: database unreachable: %s", error.__class__.__name__)
        return JsonResponse(
            {"status": "unavailable", "database": "unreachable", "reason": "database unreachable"}, status=503
        )
    if pending:
        return JsonResponse(
            {"status": "unavailable", "database": "ok", "reason": "migrations not applied", "pending": pending},
            status=503,
        )
    cache_ok = _cache_reachable()
    return JsonResponse(
        {"status": "ok" if cache_ok else "degraded", "database": "ok", "cache": "ok" if cache_ok else "unreachable"}
    )
