"""PostgreSQL gone (killed) and frozen (SIGSTOP) under a real gunicorn: /healthz stays 200, /readyz answers 503
within the readiness probe's 3 s timeout, API requests get a 503 JSON error, and all recovers without a
restart of the app."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.faults.stack import OutageStack, outage_stack
from tests.faults.throwaway import (
    admin_session,
    wait_for,
)

# deploy/'s readinessProbe timeoutSeconds: /readyz must answer before the kubelet gives up.
PROBE_TIMEOUT_SECONDS = 3


Stack = OutageStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # One worker, one thread: every request below meets the same persistent database connection.
    with outage_stack(tmp_path_factory.mktemp("database-outage"), workers=1, threads=2) as started:
        yield started


def readyz(stack: Stack) -> requests.Response:
    # The probe's own timeout: a slower answer raises ReadTimeout and fails the test.
    return requests.get(f"{stack.base}/readyz", timeout=PROBE_TIMEOUT_SECONDS)


def assert_recovered(stack: Stack) -> None:
    wait_for(lambda: readyz(stack).status_code == 200, "/readyz to recover", seconds=30)
    assert readyz(stack).json()["database"] == "ok"
    # The API works again through the same gunicorn (stale connections are replaced, not fatal).
    wait_for(lambda: stack.api().status_code == 200, "the API to recover", seconds=15)
    assert stack.api().status_code == 200


def test_database_gone(stack: Stack) -> None:
    assert stack.api().status_code == 200  # a persistent connection now exists in the worker
    signed_in = admin_session(stack.base)
    stack.postgres.kill()
    try:
        assert requests.get(f"{stack.base}/healthz", timeout=PROBE_TIMEOUT_SECONDS).status_code == 200
        ready = readyz(stack)
        assert ready.status_code == 503
        assert ready.json()["database"] == "unreachable"
        for _ in range(2):  # the broken persistent connection, then a refused new one
            answer = stack.api()
            assert answer.status_code == 503
            assert answer.headers["Content-Type"] == "application/json"
            assert answer.json()["code"] == "database_unavailable"
        admin = signed_in.get(
            f"{stack.base}/admin/", timeout=15, allow_redirects=False
        )  # its session is in the database
        assert admin.status_code == 503
        assert b"Service unavailable" in admin.content
    finally:
        stack.postgres.start()
    assert_recovered(stack)


def test_database_frozen(stack: Stack) -> None:
    assert stack.api().status_code == 200
    stack.postgres.freeze()
    try:
        assert requests.get(f"{stack.base}/healthz", timeout=PROBE_TIMEOUT_SECONDS).status_code == 200
        for _ in range(3):  # repeated probes while frozen: each answers in time, none piles up
            ready = readyz(stack)
            assert ready.status_code == 503
            assert ready.json()["reason"] == "database unreachable"
    finally:
        stack.postgres.thaw()
    assert_recovered(stack)


def test_database_restarted_while_idle(stack: Stack) -> None:
    """Connections PostgreSQL dropped while the app was idle are replaced before use: after the restart the
    very first API and admin requests answer, on every thread (no 503 for a stale connection)."""
    signed_in = admin_session(stack.base)
    with ThreadPoolExecutor(max_workers=4) as pool:  # persistent connections on both threads
        assert set(pool.map(lambda _: signed_in.get(f"{stack.base}/admin/", timeout=15).status_code, range(8))) == {200}
    stack.postgres.kill()
    stack.postgres.start()
    # Admin pages first: a session request has no retry of its own (the bearer look-up has one).
    with ThreadPoolExecutor(max_workers=4) as pool:
        admin = list(pool.map(lambda _: signed_in.get(f"{stack.base}/admin/", timeout=15).status_code, range(8)))
        api = list(pool.map(lambda _: stack.api().status_code, range(8)))
    assert admin == [200] * 8
    assert api == [200] * 8
