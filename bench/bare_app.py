"""The floor for bench/load.py: one bare Django view returning a 2 KB JSON body, no middleware, no
database, no authentication — served by the same gunicorn.conf.py as the app.

Run as `gunicorn -c gunicorn.conf.py bench.bare_app:application` from the repository root.
"""

from __future__ import annotations

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench-only-bare-view-secret-key-0123456789-abcdefghijklmnop",  # noqa: S106 - benchmark only
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    USE_TZ=True,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

# About the size of a short list page: 2 KB of JSON.
BODY = {"results": [{"id": n, "payee": f"Payee {n:04d}", "amount": "-12.30", "tags": [n]} for n in range(34)]}


def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse(BODY)


urlpatterns = [path("bare/", bare)]
application = get_wsgi_application()
