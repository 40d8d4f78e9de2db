from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class StableCursorPagination(CursorPagination):
    """Cursor pagination: pages stay stable while rows are added, and cost the same at any depth."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-id"

    @contextmanager
    def position_of_the_ordering_field(self) -> Iterator[None]:
        """A forged cursor whose position is no value of the ordering field ("x" for an id) decodes, and only the
        query built from it fails: it answers as DRF answers a cursor it cannot decode, not with a 500."""
        try:
            yield
        except (ValueError, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None

    def paginate_queryset(
        self, queryset: QuerySet[Any, Any] | Sequence[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        with self.position_of_the_ordering_field():
            return super().paginate_queryset(queryset, request, view)

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> tuple[str, ...]:
        # The cursor stores the first field's value plus an offset among equal values; that offset only
        # lands on the same row twice if ties come back in one fixed order, so `id` always breaks ties.
        ordering = tuple(super().get_ordering(request, queryset, view))
        if not any(field.lstrip("-") in {"id", "pk"} for field in ordering):
            ordering = (*ordering, "-id" if ordering[0].startswith("-") else "id")
        return ordering
