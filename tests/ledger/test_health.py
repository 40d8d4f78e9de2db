"""Probes: liveness touches nothing; readiness needs the database and migrations, and only degrades without Redis."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.core.cache import caches
from django.db import connection, connections, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client

pytestmark = pytest.mark.django_db

UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
        },
    }
}


def test_healthz_answers_without_touching_the_database(client: Client, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_readyz_is_ok_with_database_redis_and_migrations(client: Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_readyz_degrades_but_stays_ready_without_redis(client: Client, settings: Any) -> None:
    settings.CACHES = UNREACHABLE_REDIS
    try:
        response = client.get("/readyz")
    finally:
        caches["default"].close()
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "unreachable"}


def test_probes_only_answer_get(client: Client) -> None:
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def _readyz_without_recorded_migration(client: Client, which: str) -> Any:
    """Forget one applied migration inside a transaction that is rolled back, and ask /readyz."""
    recorder = MigrationRecorder(connection)
    ledger = sorted(recorder.migration_qs.filter(app="ledger").values_list("name", flat=True))
    name = ledger[-1] if which == "latest" else "0001_initial" if which == "first" else "0002_database_invariants"
    with transaction.atomic():
        recorder.migration_qs.filter(app="ledger", name=name).delete()
        response = client.get("/readyz")
        transaction.set_rollback(True)
    assert recorder.migration_qs.filter(app="ledger", name=name).exists()
    return response, f"ledger.{name}"


@pytest.mark.parametrize("which", ["latest", "first", "middle"])
def test_readyz_is_503_when_a_migration_is_not_applied(client: Client, which: str) -> None:
    response, missing = _readyz_without_recorded_migration(client, which)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["reason"] == "migrations not applied"
    assert missing in body["pending"]


@contextmanager
def default_connection_with(settings: dict[str, Any], options: dict[str, Any]) -> Iterator[None]:
    """A fresh `default` connection with `settings` and `options` laid over the test's own; the test's
    connection is put back after."""
    original = connections["default"]
    settings_dict = {**original.settings_dict, **settings}
    settings_dict["OPTIONS"] = {**settings_dict.get("OPTIONS", {}), **options}
    replacement = original.__class__(settings_dict, alias="default")
    connections["default"] = replacement
    try:
        yield
    finally:
        replacement.close()
        connections["default"] = original


@pytest.fixture
def database_gone() -> Iterator[None]:
    """Point a fresh `default` connection at a closed port."""
    with default_connection_with({"HOST": "127.0.0.1", "PORT": "1"}, {"connect_timeout": 1}):
        yield


def test_readyz_is_503_with_a_reason_when_the_database_is_gone(database_gone: None) -> None:
    response = Client().get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "unreachable"
    assert body["reason"] == "database unreachable"
    assert "password" not in response.content.decode().lower()


def test_healthz_stays_up_when_the_database_is_gone(database_gone: None) -> None:
    assert Client().get("/healthz").status_code == 200


@pytest.fixture
def database_by_socket_option() -> Iterator[None]:
    """`default` reached the way the quick start's embedded PostgreSQL is: DATABASE_URL
    `postgresql://postgres:@/db?host=/socket/dir` gives an empty HOST and the socket directory in OPTIONS."""
    with default_connection_with({"HOST": "", "PORT": ""}, {"host": "/var/run/postgresql"}):
        yield


def test_readyz_is_ok_when_the_database_host_comes_in_options(database_by_socket_option: None) -> None:
    # Found walking the quick start: make_conninfo() got `host` twice and /readyz answered 500.
    response = Client().get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["database"] == "ok"
