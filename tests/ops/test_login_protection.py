"""Login protection (django-axes): the admin login and the token endpoint lock a (username, address) pair
after LOGIN_FAILURE_LIMIT failures, for LOGIN_COOLOFF_MINUTES only; addresses come from trusted proxies
only; Redis being down changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.models import User
from tests.ops.conftest import PASSWORD

ATTACKER = "203.0.113.66"
OWNER_HOME = "198.51.100.7"
TOKEN_URL = "/api/v1/auth/token/"
# Nothing listens on port 9 (discard) on 127.0.0.1: a Redis that is down, without touching the shared one.
REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


@pytest.fixture(autouse=True)
def _small_limits(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def admin_login(username: str, password: str, address: str, **headers: Any) -> Any:
    return Client().post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
        **headers,
    )


def token(username: str, password: str, address: str, **headers: Any) -> Any:
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **headers
    )


def guess_wrong(sign_in: Callable[[str, str, str], Any], username: str, *, times: int) -> None:
    """The attacker tries a wrong password for `username` `times` times through `sign_in`."""
    for _ in range(times):
        sign_in(username, "wrong", ATTACKER)


def test_admin_login_locks_the_attackers_address_out_with_a_clear_page(staff_owner: User) -> None:
    statuses = [admin_login(staff_owner.username, "wrong", ATTACKER).status_code for _ in range(3)]
    assert statuses[:2] == [200, 200]  # the login form again, with its error
    locked = admin_login(staff_owner.username, PASSWORD, ATTACKER)  # even the right password, from there
    assert locked.status_code == 429
    assert b"Login temporarily locked" in locked.content
    assert int(locked["Retry-After"]) == 15 * 60
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_the_real_person_at_another_address_still_signs_in_to_the_admin(staff_owner: User) -> None:
    guess_wrong(admin_login, staff_owner.username, times=5)
    response = admin_login(staff_owner.username, PASSWORD, OWNER_HOME)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_token_endpoint_lockout_answers_json_429(owner: User) -> None:
    guess_wrong(token, owner.username, times=3)
    locked = token(owner.username, PASSWORD, ATTACKER)
    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/json"
    assert locked.json()["code"] == "login_locked_out"
    assert locked.json()["retry_after"] == 15 * 60
    assert "token" not in locked.json()
    assert token(owner.username, PASSWORD, OWNER_HOME).status_code == 201


def test_lockout_lifts_by_itself_after_the_cool_off(owner: User) -> None:
    guess_wrong(token, owner.username, times=3)
    assert token(owner.username, PASSWORD, ATTACKER).status_code == 429
    # Sixteen minutes later (the attempts' recorded time moved back, as the clock would).
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert token(owner.username, PASSWORD, ATTACKER).status_code == 201


def test_rotating_x_forwarded_for_does_not_escape_the_lockout_without_trusted_proxies(owner: User) -> None:
    for n in range(3):
        token(owner.username, "wrong", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    assert token(owner.username, PASSWORD, ATTACKER, HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_behind_one_trusted_proxy_the_client_is_the_entry_the_proxy_appended(owner: User, settings: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.1.2.3"
    # The attacker forges left-hand entries; the proxy appends the real address on the right.
    for n in range(3):
        token(owner.username, "wrong", proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {ATTACKER}")
    assert token(owner.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=f"192.0.2.99, {ATTACKER}").status_code == 429
    # The owner, coming through the same proxy from home, is not locked out.
    assert token(owner.username, PASSWORD, proxy, HTTP_X_FORWARDED_FOR=OWNER_HOME).status_code == 201


def test_token_rate_per_address_holds_whatever_x_forwarded_for_says(db: None) -> None:
    statuses = [
        token(f"guess{n}", "wrong", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.0.{n}.1").status_code for n in range(10)
    ]
    assert statuses == [401] * 10
    assert token("guess-last", "wrong", ATTACKER, HTTP_X_FORWARDED_FOR="10.0.99.1").status_code == 429
    assert token("someone", "wrong", OWNER_HOME).status_code == 401  # another address is not throttled


def test_lockout_and_rate_limit_hold_while_redis_is_down(owner: User, settings: Any) -> None:
    settings.CACHES = REDIS_DOWN
    for _ in range(3):
        token(owner.username, "wrong", ATTACKER)
    assert token(owner.username, PASSWORD, ATTACKER).status_code == 429
    assert token(owner.username, PASSWORD, OWNER_HOME).status_code == 201
    statuses = [token(f"guess{n}", "wrong", "192.0.2.200").status_code for n in range(11)]
    assert statuses == [401] * 10 + [429]


def test_a_successful_login_resets_the_failure_count(owner: User) -> None:
    for _ in range(2):
        token(owner.username, "wrong", OWNER_HOME)
    assert token(owner.username, PASSWORD, OWNER_HOME).status_code == 201
    for _ in range(2):
        token(owner.username, "wrong", OWNER_HOME)
    assert token(owner.username, PASSWORD, OWNER_HOME).status_code == 201


def test_admin_login_rate_per_address_holds_whatever_the_usernames(db: None) -> None:
    statuses = [admin_login(f"guess{n}", "wrong", ATTACKER).status_code for n in range(10)]
    assert statuses == [200] * 10  # the form again, with its error
    refused = admin_login("guess-last", "wrong", ATTACKER)
    assert refused.status_code == 429
    assert b"Too many sign-in attempts" in refused.content
    assert admin_login("someone", "wrong", OWNER_HOME).status_code == 200
