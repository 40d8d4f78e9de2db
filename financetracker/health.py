"""Liveness and readiness endpoints for Kubernetes probes."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches nothing, so a database outage never restarts pods."""
    return JsonResponse({"status": "ok"})


def _pending_migrations() -> list[str]:
    # Every migration the code has and the database has not recorded, gaps included: a plan towards the
    # leaf nodes would miss a middle migration whose successors are recorded.
    loader = MigrationLoader(connection)
    missing = set(loader.graph.nodes) - set(loader.applied_migrations)
    return sorted(f"{app_label}.{name}" for app_label, name in missing)


def _cache_reachable() -> bool:
    # django-redis ignores cache errors by design, so a round trip is the only honest test.
    try:
        cache.set("readyz:probe", "1", timeout=5)
        return cache.get("readyz:probe") == "1"
    except Exception:  # noqa: BLE001 - any cache failure means degraded, never not-ready
        return False


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database answers and every migration is applied. Redis loss only degrades."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
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
