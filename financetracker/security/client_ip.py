"""The client's address, from the socket or from the proxies we were told to trust, never from the client.

`TRUSTED_PROXY_COUNT` says how many reverse proxies (ingress, load balancer) sit in front of the app. Each
appends the address it received the request from to `X-Forwarded-For`, so the client is the entry the
outermost trusted proxy wrote: the N-th from the right. Entries further left are whatever the client
sent and are ignored; with no trusted proxy the header is ignored altogether.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if count <= 0:
        return remote
    chain = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(chain) < count:
        # Fewer entries than trusted proxies: the request did not come through all of them.
        return remote
    return _valid(chain[-count]) or remote
