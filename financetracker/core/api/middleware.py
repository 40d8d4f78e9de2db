"""Response rules for every /api/ path: JSON error bodies and no caching of household data."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.response import Response

API_PREFIX = "/api/"


class ApiResponseMiddleware:
    """Errors that never reached DRF (unknown URL, body-size limits hit in middleware, a crash) answer JSON
    like the rest of the API; and every API response says `Cache-Control: no-store`, since any of them may
    carry a household's figures and must not be kept by a browser or a shared proxy.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX):
            return response
        if response.status_code >= 400 and not isinstance(response, Response) and not _is_json(response):
            response = _json_error(response)
        if "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "no-store"
        return response


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _json_error(response: HttpResponse) -> HttpResponse:
    replacement = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
    for header in ("WWW-Authenticate", "Allow", "Retry-After"):
        if header in response:
            replacement[header] = response[header]
    return replacement
