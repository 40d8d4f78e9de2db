"""/metrics for Prometheus: every gunicorn worker's numbers, and never to the public.

With several workers, PROMETHEUS_MULTIPROC_DIR makes prometheus_client keep each worker's values in
files there (gunicorn.conf.py empties it at start and marks dead workers); this view then sums them
with a MultiProcessCollector instead of reporting whichever worker answered the scrape.
"""

from __future__ import annotations

import glob
import hmac
import ipaddress
import os
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)
# Set by proxies (the ingress controller among them): such a request came from outside, whatever its
# REMOTE_ADDR (which is then the proxy's private address).
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _PRIVATE_NETWORKS)


def metrics_access_allowed(request: HttpRequest) -> bool:
    token: str = getattr(settings, "METRICS_TOKEN", "")
    if token:
        header = request.headers.get("Authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if any(request.META.get(name) for name in _PROXY_HEADERS):
        return False
    return _is_private(request.META.get("REMOTE_ADDR", ""))


class StartedWorkersCollector(multiprocess.MultiProcessCollector):
    """Sums the files of workers that have started writing: a worker just booting creates its file empty and
    sizes it a moment later, and prometheus_client fails the whole scrape on an empty file (a 500 in CI)."""

    def collect(self) -> Any:
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(path) > 0:  # an empty file holds no values yet: nothing is left out
                    files.append(path)
            except OSError:
                continue  # removed meanwhile (a dead worker's file)
        return self.merge(files, accumulate=True)


def metrics_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        StartedWorkersCollector(registry)
        return registry
    return REGISTRY


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not metrics_access_allowed(request):
        return HttpResponseForbidden("Forbidden\n", content_type="text/plain")
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)
