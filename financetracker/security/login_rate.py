"""The admin login's per-address rate: POSTs to the login form counted in PostgreSQL, like the token endpoint's.

django-axes locks a (username, address) pair; this limits one address trying many usernames.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from financetracker.security.client_ip import client_ip
from financetracker.security.throttling import count_hit

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """DRF's notation: "10/min" is 10 requests a minute (the period's first letter counts)."""
    if not rate:
        return None, None
    count, period = rate.split("/")
    return int(count), _PERIODS[period.strip()[0]]


class AdminLoginRateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.num_requests, self.duration = parse_rate(settings.ADMIN_LOGIN_THROTTLE_RATE)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and self.num_requests and self.duration and request.path == reverse("admin:login"):
            ident = hashlib.sha256((client_ip(request) or "unknown").encode()).hexdigest()[:32]
            hits, wait = count_hit(f"throttle:admin_login:{ident}", duration=self.duration)
            if hits > self.num_requests:
                minutes = max(1, math.ceil(wait / 60))
                response = render(
                    request,
                    "security/lockout.html",
                    {
                        "title": "Too many sign-in attempts",
                        "message": f"Too many sign-in attempts from this address. Try again in {minutes} minutes.",
                        "minutes": minutes,
                    },
                    status=429,
                )
                response["Retry-After"] = str(max(1, math.ceil(wait)))
                return response
        return self.get_response(request)
