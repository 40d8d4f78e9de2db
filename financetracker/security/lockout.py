"""What a locked-out login attempt gets: JSON on the API, a plain page in the admin (AXES_LOCKOUT_CALLABLE)."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from financetracker.security.client_ip import client_ip

LOCKOUT_STATUS = 429


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the trusted-proxy-aware address (see financetracker.security.client_ip)."""
    return client_ip(request)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    cool_off = settings.AXES_COOLOFF_TIME
    retry_after = math.ceil(cool_off.total_seconds())
    message = (
        "Too many failed login attempts for this account from this address. "
        f"Try again in {math.ceil(retry_after / 60)} minutes."
    )
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"detail": message, "code": "login_locked_out", "retry_after": retry_after}, status=LOCKOUT_STATUS
        )
    else:
        response = render(
            request,
            "security/lockout.html",
            {"title": "Login temporarily locked", "message": message, "minutes": math.ceil(retry_after / 60)},
            status=LOCKOUT_STATUS,
        )
    response["Retry-After"] = str(retry_after)
    return response
