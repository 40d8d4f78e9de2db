"""`?ordering=`: a field the list cannot be ordered by is a 400 naming the ones it can, never silently ignored."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework import serializers
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    """DRF's OrderingFilter drops the terms it cannot apply (`-nonexistent`, a typo) and answers in the default
    order, as if the client had been obeyed; here they are refused like any other malformed query parameter."""

    def remove_invalid_fields(self, queryset: Any, fields: Iterable[str], view: Any, request: Request) -> list[str]:
        fields = list(fields)
        valid = super().remove_invalid_fields(queryset, fields, view, request)
        refused = [term for term in fields if term not in valid]
        if refused:
            names = sorted(name for name, _label in self.get_valid_fields(queryset, view, {"request": request}))
            shown = ", ".join(repr(term) for term in refused)
            raise serializers.ValidationError(
                {self.ordering_param: [f"Cannot order by {shown}. Order by {', '.join(names)} (prefix - to reverse)."]}
            )
        return valid
