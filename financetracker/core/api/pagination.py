from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class StableCursorPagination(CursorPagination):
    """Cursor pagination: pages stay stable while rows are added, and cost the same at any depth."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        # The cursor stores the first field's value plus an offset among equal values; that offset only
        # lands on the same row twice if ties come back in one fixed order, so `id` always breaks ties.
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering
