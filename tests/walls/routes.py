"""Every route, enumerated from the code: the API from the URL configuration (cross-checked against the OpenAPI
schema drf-spectacular generates), the admin from `admin.site` (each registered model's standard pages and
actions, and every extra URL its `get_urls()` adds)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

API_PREFIX = "api/v1/"
# Documentation of the API, not part of it: anyone may read the schema and the docs pages.
API_DOCS = {"api-schema", "api-docs", "api-redoc"}
SAFE = {"get", "head", "options"}


@dataclass(frozen=True)
class ApiRoute:
    name: str
    pattern: str  # the URL pattern with <kwarg> placeholders, e.g. "api/v1/accounts/<pk>/balance/"
    methods: frozenset[str]


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, URLPattern]]:
    found: list[tuple[str, URLPattern]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        else:
            found.append((prefix + str(entry.pattern), entry))
    return found


def _readable(pattern: str) -> str:
    """A route regex or path pattern as "accounts/<pk>/balance/" (format suffix variants dropped by callers)."""
    text = pattern.replace("^", "").replace("$", "")
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text)
    return text.replace("\\.", ".")


def _methods(callback: Any) -> frozenset[str]:
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    allowed = getattr(view_class, "http_method_names", [])
    actions = getattr(callback, "actions", None)
    if actions:  # a viewset route: {method: action}, less the methods the viewset refuses
        # DRF adds "head" to this mapping the first time the view serves a request: it is GET's twin, not a route.
        return frozenset(m for m in actions if m in allowed and m not in {"head", "options"})
    return frozenset(m for m in allowed if m not in {"head", "options", "trace"} and hasattr(view_class, m))


def api_routes() -> dict[str, ApiRoute]:
    """Named API routes under /api/v1/ (the DRF router's format-suffix and root variants left out)."""
    routes: dict[str, ApiRoute] = {}
    for pattern, entry in _walk(get_resolver().url_patterns):
        if not pattern.startswith(API_PREFIX) or entry.name is None:
            continue
        text = _readable(pattern)
        if "<format>" in text or entry.name == "api-root":
            continue
        routes.setdefault(entry.name, ApiRoute(entry.name, text, _methods(entry.callback)))
    return routes


def schema_operations() -> set[tuple[str, str]]:
    """(path with <kwarg> placeholders, method) of every operation in the OpenAPI schema."""
    request = RequestFactory().get("/api/v1/schema/")
    schema = SchemaGenerator().get_schema(request=None, public=True)
    del request
    operations: set[tuple[str, str]] = set()
    for path, item in schema["paths"].items():
        text = re.sub(r"\{(\w+)\}", r"<\1>", path).lstrip("/").replace("<id>", "<pk>")
        for method in item:
            if method in {"get", "post", "put", "patch", "delete"}:
                operations.add((text, method))
    return operations


# --- the admin -----------------------------------------------------------------------------------


STANDARD_PAGES = ("changelist", "add", "change", "delete", "history")


def admin_standard_routes() -> set[str]:
    """`<app>_<model>_<page>` for every registered model: the pages Django's ModelAdmin serves."""
    return {
        f"{model._meta.app_label}_{model._meta.model_name}_{page}"
        for model in admin.site._registry
        for page in STANDARD_PAGES
    }


def admin_extra_routes() -> set[str]:
    """Names of every admin URL that is not a standard model page: the site's own and each get_urls() extra."""
    names = {entry.name for _pattern, entry in _walk(admin.site.get_urls()) if entry.name}
    return names - admin_standard_routes()


def admin_action_routes() -> set[str]:
    """`<app>_<model>_changelist:<action>` for every action each registered admin declares."""
    names: set[str] = set()
    for model, model_admin in admin.site._registry.items():
        for _function, action_name, _description in model_admin._get_base_actions():  # type: ignore[attr-defined]  # django-stubs: ModelAdmin._get_base_actions (private) is not stubbed
            names.add(f"{model._meta.app_label}_{model._meta.model_name}_changelist:{action_name}")
    return names
