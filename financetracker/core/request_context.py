"""Per-request context (request id, user, household) for logs and audit entries, and the access log.

The context lives in contextvars so it follows the request through threads of gunicorn's gthread
workers without being passed around. Only stdlib is imported at module level: gunicorn's master
loads `financetracker.logging`, which reads these variables, before Django is set up.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# A proxy's id is reused only when it is a short, boring token, so it cannot smuggle anything into logs.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
household_id_var: ContextVar[int | None] = ContextVar("household_id", default=None)
# The request itself, so the user can be read once authentication (session or DRF token) has run.
_request_var: ContextVar[HttpRequest | None] = ContextVar("request", default=None)

access_logger = logging.getLogger("financetracker.request")


def clean_request_id(value: str | None) -> str:
    """The incoming id when it is a sane token, else a fresh uuid4 hex."""
    if value and _SANE_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return request_id_var.get()


def current_household_id() -> int | None:
    return household_id_var.get()


def bind_household(household_id: int | None) -> None:
    """Name the household this request works on, for the log lines that follow."""
    if household_id is not None and _request_var.get() is not None:
        household_id_var.set(household_id)


def _authenticated_user(*, evaluate: bool) -> Any | None:
    request = _request_var.get()
    if request is None:
        return None
    user = getattr(request, "user", None)
    if user is None:
        return None
    # AuthenticationMiddleware's user is lazy; logging must never trigger a query (or recurse into the
    # database logger), so it only reads a user something else already loaded.
    wrapped = getattr(user, "_wrapped", user)
    if not evaluate and wrapped is not user and _is_empty(wrapped):
        return None
    try:
        return user if user.is_authenticated else None
    except Exception:  # noqa: BLE001  (a broken session must not break a log line)
        return None


def _is_empty(wrapped: object) -> bool:
    from django.utils.functional import empty

    return wrapped is empty


def current_user() -> Any | None:
    """The authenticated user of the current request, loading it if needed (for audit entries)."""
    return _authenticated_user(evaluate=True)


def current_user_id() -> int | None:
    """The user id when authentication already ran; never queries (safe inside logging)."""
    user = _authenticated_user(evaluate=False)
    return None if user is None else user.pk


def current_channel() -> str | None:
    """'api' or 'admin' from the current request's path, for metrics labels; None outside requests."""
    request = _request_var.get()
    if request is None:
        return None
    if request.path.startswith("/api/"):
        return "api"
    if request.path.startswith("/admin/"):
        return "admin"
    return "web"


class RequestContextMiddleware:
    """First middleware: sets the request id and context, echoes `X-Request-ID`, logs one access line."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        request_id = clean_request_id(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id  # type: ignore[attr-defined]  # django-stubs: HttpRequest has no request_id; logging reads it
        tokens = (request_id_var.set(request_id), household_id_var.set(None), _request_var.set(request))
        status = 500
        try:
            response = self.get_response(request)
            status = response.status_code
            response[REQUEST_ID_HEADER] = request_id
            return response
        finally:
            self._log(request, status, started)
            _request_var.reset(tokens[2])
            household_id_var.reset(tokens[1])
            request_id_var.reset(tokens[0])

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
        if not access_logger.isEnabledFor(level):  # below LOG_LEVEL: not even the record is built
            return
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        # request.path, never get_full_path(): query strings may carry secrets.
        access_logger.log(
            level,
            "%s %s %s %.1fms",
            request.method,
            request.path,
            status,
            duration_ms,
            extra={"method": request.method, "path": request.path, "status": status, "duration_ms": duration_ms},
        )
