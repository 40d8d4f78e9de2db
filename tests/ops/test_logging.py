"""Logs: one JSON object a line with the request context, a request id that round-trips, no secrets."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from financetracker.logging import ConsoleFormatter, JsonFormatter, RequestContextFilter
from ledger.models import User
from tests.ops.conftest import PASSWORD, LogCapture

pytestmark = pytest.mark.django_db


def access_lines(logs: LogCapture, path: str) -> list[dict[str, Any]]:
    return [line for line in logs.records() if line["logger"] == "financetracker.request" and line["path"] == path]


def test_every_line_is_json_and_the_access_line_has_the_request_fields(captured_logs: LogCapture) -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    records = captured_logs.records()  # json.loads of every line: fails on anything else
    (line,) = access_lines(captured_logs, "/healthz")
    assert line["level"] == "INFO"
    assert line["method"] == "GET"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == response["X-Request-ID"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", line["timestamp"])
    assert {"timestamp", "level", "logger", "message"} <= set(records[0])


def test_a_sane_request_id_is_echoed_and_logged(captured_logs: LogCapture) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="edge-7f3a.42_x")
    assert response["X-Request-ID"] == "edge-7f3a.42_x"
    assert access_lines(captured_logs, "/healthz")[0]["request_id"] == "edge-7f3a.42_x"


@pytest.mark.parametrize("garbage", ["has space", 'quote"d', "a" * 65, "semi;colon", "ümlaut", ""])
def test_a_garbage_request_id_is_replaced_with_a_fresh_one(captured_logs: LogCapture, garbage: str) -> None:
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=garbage)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert garbage not in captured_logs.text or garbage == ""


def test_errors_logged_by_django_after_the_response_carry_the_request_id(captured_logs: LogCapture) -> None:
    response = Client().get("/no-such-page", HTTP_X_REQUEST_ID="rid-404")
    assert response.status_code == 404
    warnings = [line for line in captured_logs.records() if line["logger"] == "django.request"]
    assert warnings and warnings[0]["request_id"] == "rid-404"
    assert access_lines(captured_logs, "/no-such-page")[0]["level"] == "WARNING"


def test_a_bearer_authenticated_request_logs_the_user_and_never_the_query_string(
    captured_logs: LogCapture, owner: User, client_for: Any
) -> None:
    client_for(owner).get("/api/v1/transactions/?api_key=query-secret-123")
    (line,) = access_lines(captured_logs, "/api/v1/transactions/")
    assert line["user_id"] == owner.pk
    assert "query-secret-123" not in captured_logs.text


def test_no_password_token_or_session_id_reaches_the_logs(captured_logs: LogCapture, staff_owner: User) -> None:
    browser = Client()
    logged_in = browser.post("/admin/login/?next=/admin/", {"username": staff_owner.username, "password": PASSWORD})
    assert logged_in.status_code == 302
    session_id = browser.cookies["sessionid"].value
    browser.get("/admin/")
    browser.post("/admin/login/", {"username": staff_owner.username, "password": "wrong-" + PASSWORD})

    issued = APIClient().post(
        "/api/v1/auth/token/", {"username": staff_owner.username, "password": PASSWORD, "name": "cli"}, format="json"
    )
    assert issued.status_code == 201
    secret = issued.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/accounts/").status_code == 200
    APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}x").get("/api/v1/accounts/")  # a wrong token: 401

    output = captured_logs.text
    assert access_lines(captured_logs, "/api/v1/accounts/")  # the requests were logged...
    for needle in (PASSWORD, secret, secret[3:], session_id, "Authorization", "Cookie", "csrftoken"):
        assert needle not in output, f"{needle!r} leaked into the logs"  # ...without any secret


def test_the_formatter_redacts_a_secret_a_careless_message_carries() -> None:
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "got %s", ("Authorization: Bearer ft_abcdefghijklmnopqrstuvwxyz",), None
    )
    RequestContextFilter().filter(record)
    line = json.loads(JsonFormatter().format(record))
    assert "abcdefghijklmnop" not in line["message"]
    assert line["message"].startswith("got Authorization: Bearer [redacted]")


def test_the_debug_formatter_is_readable_and_names_the_request() -> None:
    record = logging.LogRecord("ledger", logging.WARNING, __file__, 1, "careful", (), None)
    record.request_id = "rid-1"
    text = ConsoleFormatter().format(record)
    assert "WARNING" in text and "ledger [rid-1] careful" in text


def test_gunicorn_access_atoms_become_safe_json_fields() -> None:
    # gunicorn passes its atoms dict as the record's args; `r` (request line) and headers must not leak.
    atoms = {
        "h": "10.0.0.3", "m": "GET", "U": "/api/v1/accounts/", "q": "token=abc", "r": "GET /api/v1/accounts/?token=abc HTTP/1.1",
        "s": "200", "M": 12, "B": 345, "{x-request-id}o": "rid-9", "{authorization}i": "Bearer ft_secret",
    }  # fmt: skip
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "%(r)s", (atoms,), None)
    line = json.loads(JsonFormatter().format(record))
    assert line == {
        "timestamp": line["timestamp"], "level": "INFO", "logger": "gunicorn.access", "message": "GET /api/v1/accounts/ 200",
        "request_id": "rid-9", "method": "GET", "path": "/api/v1/accounts/", "status": 200, "duration_ms": 12,
        "remote_addr": "10.0.0.3", "bytes": "345",
    }  # fmt: skip
