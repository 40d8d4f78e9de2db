"""Reads for uploads: the querysets behind exports and previews."""

from __future__ import annotations

from django.db.models import QuerySet

from ledger.models import Transaction


def export_queryset(queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
    """Everything a CSV line shows, in a fixed number of queries per chunk whatever the size."""
    return (
        queryset.select_related("account", "category", "category__parent")
        .prefetch_related("tags")
        .order_by("date", "id")
    )
