"""The Content-Security-Policy with the one relaxation the admin's theme needs.

django-unfold drives its pages with Alpine.js, whose standard build evaluates the expressions written in
`x-data`/`x-on` attributes with `new Function` — CSP's 'unsafe-eval'. Alpine's CSP build cannot run
unfold's templates (they hold inline expressions, arrow functions included), so admin pages, and only they,
allow eval. Everything else stays as strict as settings.CONTENT_SECURITY_POLICY: scripts and styles only
from our own origin or carrying the request's nonce, no 'unsafe-inline' anywhere, so injected markup still
cannot run a script of its own.
"""

from __future__ import annotations

from csp.constants import UNSAFE_EVAL
from csp.middleware import CSPMiddleware, PolicyParts
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

ADMIN_RELAXATION = {"script-src": [UNSAFE_EVAL]}


class ThemedAdminCSPMiddleware(CSPMiddleware):
    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(reverse("admin:index")):
            update = dict(parts.update or {})
            for directive, values in ADMIN_RELAXATION.items():
                existing = update.get(directive) or []
                update[directive] = [*([existing] if isinstance(existing, str) else existing), *values]
            parts.update = update
        return parts
