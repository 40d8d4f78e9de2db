"""Redis cut off (the network drops its packets), paused (SIGSTOP) and lost (killed, back empty) under a real
gunicorn: requests keep working, nobody
is logged out, /readyz says degraded, a logout during the outage holds after Redis returns, the cache is used
again without a restart and the login throttle keeps counting (in PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from tests.faults.stack import OutageStack, outage_stack
from tests.faults.throwaway import (
    admin_logout,
    admin_session,
    api_token,
    wait_for,
)

Stack = OutageStack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    # The app reaches Redis through the relay, so the link can be cut while Redis keeps its data.
    with outage_stack(tmp_path_factory.mktemp("redis-outage"), workers=2, threads=4, through_relay=True) as started:
        yield started


def readyz(base: str) -> dict[str, str]:
    response = requests.get(f"{base}/readyz", timeout=3)
    assert response.status_code == 200, response.text
    return dict(response.json())


def signed_in(base: str, session: requests.Session) -> bool:
    """The admin index for this cookie: 200 when signed in, a redirect to the login page when not."""
    response = session.get(f"{base}/admin/", allow_redirects=False, timeout=10)
    assert response.status_code in {200, 302}, response.status_code
    return response.status_code == 200


def browsable_api_signed_in(base: str, session: requests.Session) -> bool:
    response = session.get(f"{base}/api/v1/accounts/", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code in {200, 401, 403}, response.status_code
    return response.status_code == 200


def replaying(base: str, session: requests.Session) -> requests.Session:
    """Another client holding a copy of `session`'s cookie, as a stolen or still-open browser tab would:
    the logout answer tells the browser to forget it, this copy keeps it."""
    copy = requests.Session()
    copy.cookies.set("sessionid", session.cookies["sessionid"], domain="127.0.0.1")
    return copy


def assert_outage_behaviour(stack: Stack, staying: requests.Session, leaving: requests.Session, token: str) -> None:
    """While Redis is out: everything answers, sessions hold, the logout of `leaving` is recorded."""
    base = stack.base
    assert requests.get(f"{base}/healthz", timeout=3).status_code == 200
    assert readyz(base) == {"status": "degraded", "database": "ok", "cache": "unreachable"}
    assert signed_in(base, staying)
    assert browsable_api_signed_in(base, staying)
    api = requests.get(f"{base}/api/v1/accounts/", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert api.status_code == 200
    assert admin_logout(base, leaving).status_code in {200, 302}
    assert "sessionid" not in leaving.cookies


def assert_after_return(stack: Stack, staying: requests.Session, leaving: requests.Session) -> None:
    base = stack.base
    # The cache is used again by the same processes, no restart: /readyz's round trip through Redis succeeds.
    wait_for(lambda: readyz(base)["status"] == "ok", "/readyz to see Redis again", seconds=15)
    assert signed_in(base, staying)
    # The logged-out cookie stays logged out, in the admin and in the browsable API.
    assert not signed_in(base, leaving)
    assert not browsable_api_signed_in(base, leaving)


# Each way Redis can go away, and how it comes back: reachable again with everything it held (the case
# cached_db sessions got wrong: the logout's cache delete is lost, Redis still holds the session when it is
# reachable again, and served it, so the logged-out cookie came back to life), resumed after a pause, or
# restarted empty.
OUTAGES: dict[str, tuple[Callable[[Stack], None], Callable[[Stack], None]]] = {
    "cut_off_then_reachable_again": (lambda stack: stack.relay.cut(), lambda stack: stack.relay.heal()),
    "paused_then_resumed": (lambda stack: stack.redis.pause(), lambda stack: stack.redis.resume()),
    "lost_then_back_empty": (lambda stack: stack.redis.kill(), lambda stack: stack.redis.start()),
}


@pytest.mark.parametrize("outage", OUTAGES)
def test_redis_goes_away_and_comes_back(stack: Stack, outage: str) -> None:
    go_away, come_back = OUTAGES[outage]
    base = stack.base
    staying, leaving = admin_session(base), admin_session(base)
    token = api_token(base)
    # Both sessions have been read (and, with a cache-backed engine, cached) while Redis was up.
    assert signed_in(base, staying) and signed_in(base, leaving)
    old_cookie = replaying(base, leaving)
    go_away(stack)
    try:
        assert_outage_behaviour(stack, staying, leaving, token)
        assert not signed_in(base, old_cookie)
        assert admin_session(base) is not None  # signing in works during the outage
    finally:
        come_back(stack)
    assert_after_return(stack, staying, old_cookie)


def test_login_throttle_keeps_counting_while_redis_is_paused(stack: Stack) -> None:
    base = stack.base
    stack.redis.pause()
    statuses: list[int] = []
    try:
        # Earlier tests of this module fetched tokens from this address too: the rate (10 a minute) is
        # reached within at most 11 attempts, and then refused.
        while 429 not in statuses and len(statuses) < 11:
            response = requests.post(
                f"{base}/api/v1/auth/token/",
                json={"username": f"guess{len(statuses)}", "password": "wrong"},
                headers={"X-Forwarded-For": f"10.0.0.{len(statuses)}"},  # rotated: ignored without trusted proxies
                timeout=10,
            )
            statuses.append(response.status_code)
    finally:
        stack.redis.resume()
    assert statuses[-1] == 429, statuses
    assert set(statuses[:-1]) <= {401}, statuses
