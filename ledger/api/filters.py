from __future__ import annotations

import copy
import functools
from collections.abc import Iterable
from typing import Any, ClassVar

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.forms.utils import ErrorDict, ErrorList
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from django_filters.utils import translate_validation

from financetracker.core.api.fields import BoundedDateFilter, StrictBooleanFilter
from ledger.models import Transaction, TransactionStatus
from ledger.selectors import transactions_in_category

MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """A related row's id as a plain number input.

    Not a ModelChoiceFilter: that one validates against a whole table, so another household's id answered
    200 [] where a missing one answered 400 (an existence oracle), and the browsable API rendered every row of
    every household as an <option>. A number filters the already restricted list: both ids give 200 [].
    """

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class ShallowCopiedFilters(django_filters.FilterSet):
    """django-filter deep-copies every declared filter on each request (the currency filter's choices
    too: 0.7 ms of the account list). Filters are configured once and only get `model` and `parent` set
    per request, so a shallow copy of each is enough; form fields are still built per instance.
    The body is BaseFilterSet.__init__ (django-filter 26) with copy.copy per filter for the deepcopy."""

    def __init__(
        self, data: Any = None, queryset: Any = None, *, request: Any = None, prefix: str | None = None
    ) -> None:
        if queryset is None:
            queryset = self._meta.model._default_manager.all()
        model = queryset.model
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset
        self.request = request
        self.form_prefix = prefix
        self.filters = {name: copy.copy(filter_) for name, filter_ in self.base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = model
            filter_.parent = self
            if filter_.method is not None:
                # The setter rebinds the FilterMethod to this copy (the shallow copy shares the original's).
                filter_.method = filter_.method


class ScopedFilterSet(ShallowCopiedFilters, RestFilterSet):
    """The base of every generated FilterSet (`filterset_fields`): relations filter by id, never by choice list."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.ManyToManyField: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }


class ScopedFilterBackend(DjangoFilterBackend):
    filterset_base = ScopedFilterSet
    # django-filter builds a new FilterSet class from `filterset_fields` on every request (a metaclass
    # walking the model's fields: 1-3 ms of the account list); views declare their fields on the class,
    # so one class per (view class, model, fields) serves every request.
    _generated: ClassVar[dict[tuple[type, type, str], Any]] = {}

    def get_filterset_class(self, view: Any, queryset: QuerySet[Any] | None = None) -> Any:
        if getattr(view, "filterset_class", None) or queryset is None:
            return super().get_filterset_class(view, queryset)
        key = (type(view), queryset.model, repr(getattr(view, "filterset_fields", None)))
        if key not in self._generated:
            self._generated[key] = super().get_filterset_class(view, queryset)
        return self._generated[key]


class FormlessFilterBackend(ScopedFilterBackend):
    """The same filters, values and 400s as ScopedFilterBackend, without django-filter's per-request form.

    Each request built a form class, deep-copied every form field into it (the currency field's ~180
    choices: most of the account list's filter time) and cleaned through it. Here each filter's own form
    field, built once per FilterSet class on a prepared copy of its filters, cleans the query parameter
    its widget reads, exactly as the form's `_clean_fields` does, and the errors are the form's: one
    list per parameter in the filters' order, translated by django-filter's `translate_validation`.
    Only for filter sets without `method=` filters (those need the FilterSet instance); others, and the
    browsable API's form, take ScopedFilterBackend's path.
    """

    _prepared: ClassVar[dict[type, dict[str, Any] | None]] = {}

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        filters = self._filters(filterset_class, queryset)
        if filters is None:
            return super().filter_queryset(request, queryset, view)
        cleaned = clean_query_string(((name, filter_.field) for name, filter_ in filters.items()), request.query_params)
        queryset = queryset.all()
        for name, value in cleaned.items():
            queryset = filters[name].filter(queryset, value)
        return queryset

    def _filters(self, filterset_class: Any, queryset: QuerySet[Any]) -> dict[str, Any] | None:
        if filterset_class not in self._prepared:
            prepared = filterset_class(data=None, queryset=queryset.model._default_manager.none())
            filters = prepared.filters
            for filter_ in filters.values():
                filter_.field  # noqa: B018  (built now, once, on the prepared copy)
            usable = all(filter_.method is None for filter_ in filters.values())
            self._prepared[filterset_class] = filters if usable else None
        return self._prepared[filterset_class]


class TransactionFilter(ShallowCopiedFilters):
    account = django_filters.NumberFilter(field_name="account_id")
    household = django_filters.NumberFilter(field_name="household_id")
    category = django_filters.NumberFilter(
        method="filter_category", label="Category (and its subcategories, splits included)"
    )
    uncategorized = StrictBooleanFilter(method="filter_uncategorized")
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

    def filter_uncategorized(self, queryset: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
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


_NO_FILES: MultiValueDict[str, Any] = MultiValueDict()


@functools.cache
def _transaction_filter_fields() -> tuple[tuple[str, forms.Field], ...]:
    # TransactionFilter's own form fields, built once (a FilterSet builds a form class and deep-copies every
    # field on each request). Cleaning a field changes nothing on it, so one set serves every request.
    return tuple(TransactionFilter().form.fields.items())


def clean_query_string(fields: Iterable[tuple[str, forms.Field]], data: QueryDict) -> dict[str, Any]:
    """The query string cleaned as a FilterSet's form cleans it: each field's widget reads the value, the
    field cleans it, and any errors are raised as DjangoFilterBackend raises them (the same 400 body)."""
    values: dict[str, Any] = {}
    errors = ErrorDict()
    for name, field in fields:
        try:
            values[name] = field.clean(field.widget.value_from_datadict(data, _NO_FILES, name))
        except ValidationError as error:
            errors[name] = ErrorList(error.error_list)
    if errors:
        raise translate_validation(errors)
    return values


def transaction_filter_values(data: QueryDict) -> dict[str, Any]:
    """The query string cleaned as TransactionFilter's form cleans it. The list reads these values into one
    statement (ledger.selectors.transaction_page) instead of filtering a queryset; TransactionFilter stays the
    declaration the schema and the browsable API are built from."""
    return clean_query_string(_transaction_filter_fields(), data)
