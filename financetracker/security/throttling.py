"""A DRF throttle counted in PostgreSQL, keyed on the trusted client address.

DRF's own throttles keep their history in the cache: with Redis down (django-redis ignores its errors)
they forget every request and never trigger. Login endpoints are rare and expensive anyway (a password
hash each), so one upsert per request is cheap next to them and holds whatever Redis does.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.throttling import ScopedRateThrottle

from financetracker.security.client_ip import client_ip

# A window opens at a key's first hit and lasts `duration` seconds: N requests within that span pass, the
# next is refused, whatever the wall clock's minute boundaries.
_UPSERT = """
INSERT INTO security_ratelimitwindow AS w (key, window_start, hits) VALUES (%(key)s, %(now)s, 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN w.window_start > %(opened_after)s THEN w.hits + 1 ELSE 1 END,
    window_start = CASE WHEN w.window_start > %(opened_after)s THEN w.window_start ELSE EXCLUDED.window_start END
RETURNING hits, window_start
"""


def count_hit(key: str, *, duration: int) -> tuple[int, float]:
    """Count one hit on `key` in its current window; the hits so far and the seconds left in the window."""
    now = timezone.now()
    span = timedelta(seconds=duration)
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT, {"key": key, "now": now, "opened_after": now - span})
        hits, window_start = cursor.fetchone()
        if hits == 1:
            # A key's new window: drop windows nobody has touched for a day, so the table stays as small as
            # the set of recent clients.
            cursor.execute("DELETE FROM security_ratelimitwindow WHERE window_start < %s", [now - timedelta(days=1)])
    return int(hits), (window_start + span - now).total_seconds()


class DatabaseScopedRateThrottle(ScopedRateThrottle):
    """ScopedRateThrottle semantics (rates from DEFAULT_THROTTLE_RATES), counted in the database."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request) or "unknown"

    def get_cache_key(self, request: Request, view: Any) -> str:
        # Usernames and addresses never reach the table in clear.
        ident = hashlib.sha256(self.get_ident(request).encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{ident}"

    def allow_request(self, request: Request, view: Any) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        if self.num_requests is None or self.duration is None:
            return True
        hits, self._wait = count_hit(self.get_cache_key(request, view), duration=self.duration)
        return hits <= self.num_requests

    def wait(self) -> float | None:
        return max(getattr(self, "_wait", 0.0), 0.0)
