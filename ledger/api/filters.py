from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q, QuerySet

from ledger.api.fields import BoundedDateFilter
from ledger.models import Transaction, TransactionStatus
from ledger.selectors import transactions_in_category


class TransactionFilter(django_filters.FilterSet):
    account = django_filters.NumberFilter(field_name="account_id")
    household = django_filters.NumberFilter(field_name="household_id")
    category = django_filters.NumberFilter(
        method="filter_category", label="Category (and its subcategories, splits included)"
    )
    uncategorized = django_filters.BooleanFilter(method="filter_uncategorized")
    date_after = BoundedDateFilter(field_name="date", lookup_expr="gte", input_formats=["%Y-%m-%d"])
    date_before = BoundedDateFilter(field_name="date", lookup_expr="lte", input_formats=["%Y-%m-%d"])
    min_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = django_filters.NumberFilter(field_name="amount", lookup_expr="lte")
    status = django_filters.ChoiceFilter(choices=TransactionStatus.choices)
    tag = django_filters.NumberFilter(method="filter_tag", label="Tag id")
    search = django_filters.CharFilter(method="filter_search", max_length=200, label="Text in payee or description")

    class Meta:
        model = Transaction
        fields: list[str] = []

    def filter_category(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return transactions_in_category(queryset, int(value))

    def filter_uncategorized(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        if value is None:
            return queryset
        condition = Q(category__isnull=True, splits__isnull=True, transfer__isnull=True)
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_tag(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(tag_links__tag_id=int(value))

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(Q(payee__icontains=text) | Q(description__icontains=text))
