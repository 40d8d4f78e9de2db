"""The per-request connection health check polls the socket instead of sending `SELECT 1`
(financetracker/postgresql): a live connection costs no round trip, a dropped one is replaced before the
request's first statement, and anything unexpected on the socket gets Django's own check."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from django.db import close_old_connections, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from financetracker.postgresql.base import DatabaseWrapper
from ledger.models import User

pytestmark = pytest.mark.django_db(transaction=True)  # the check runs between requests, outside transactions


@pytest.fixture
def select_one_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """One entry per `SELECT 1` health check Django runs (its `is_usable`), with its answer."""
    calls: list[bool] = []
    wrapper = type(connections["default"])
    real = wrapper.is_usable

    def counted(self: BaseDatabaseWrapper) -> bool:
        answer = real(self)
        calls.append(answer)
        return answer

    monkeypatch.setattr(wrapper, "is_usable", counted)
    yield calls


def backend_pid() -> int:
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def next_request(client: Client) -> int:
    close_old_connections()  # what Django's handler does between requests (the test client skips it)
    response = client.get("/admin/")
    return response.status_code


def other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    )


def terminate(pid: int) -> None:
    with other_connection() as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone():
            time.sleep(0.05)  # gone once the backend has exited and closed its socket


@pytest.fixture
def staff_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_a_live_connection_is_reused_without_a_round_trip(staff_client: Client, select_one_calls: list[bool]) -> None:
    pid = backend_pid()
    for _ in range(3):
        assert next_request(staff_client) == 200
    assert select_one_calls == []
    assert backend_pid() == pid


def test_a_dropped_connection_is_replaced_before_the_request(
    staff_client: Client, select_one_calls: list[bool]
) -> None:
    pid = backend_pid()
    terminate(pid)
    # A session request (no bearer token, so no retry in the token look-up): answered, not a 503.
    assert next_request(staff_client) == 200
    assert backend_pid() != pid
    assert select_one_calls == [False]  # the socket said "look", Django's check said "dead"


def test_something_else_on_the_socket_gets_djangos_check(staff_client: Client, select_one_calls: list[bool]) -> None:
    pid = backend_pid()
    with connection.cursor() as cursor:
        cursor.execute("LISTEN health_check_test")
    with other_connection() as other:
        other.execute("NOTIFY health_check_test")  # arrives unasked: this connection's socket is readable
    deadline = time.monotonic() + 10
    wrapper = connections["default"]
    assert isinstance(wrapper, DatabaseWrapper)
    while wrapper._looks_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert next_request(staff_client) == 200
    assert select_one_calls == [True]  # alive after all: kept
    assert backend_pid() == pid
