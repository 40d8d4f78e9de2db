"""Budgets API: thin views that scope to the person's households, validate input and call services/selectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from budgets import selectors
from budgets.api import report_schemas
from budgets.api import serializers as s
from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from budgets.services import budget_lines, rates, schedules
from financetracker.core.api.fields import BoundedDateFilter, StrictBooleanFilter
from financetracker.core.api.permissions import METHOD_ACTIONS
from financetracker.core.api.viewsets import HouseholdScopedViewSet, bound_instance
from financetracker.core.tenancy import Action, may_on_shared_data
from ledger.models import Household


def visible_household(request: Request, household_id: int) -> Household:
    """The household named by a query parameter, if the person may see it; else 404."""
    return get_object_or_404(Household.objects.restrict(request.user, "view"), pk=household_id)


def validated_query(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


class BudgetFilter(django_filters.FilterSet):
    household = django_filters.NumberFilter(field_name="household_id")
    category = django_filters.NumberFilter(field_name="category_id")
    month = BoundedDateFilter(field_name="month", input_formats=["%Y-%m", "%Y-%m-%d"])
    month_after = BoundedDateFilter(field_name="month", lookup_expr="gte", input_formats=["%Y-%m", "%Y-%m-%d"])
    month_before = BoundedDateFilter(field_name="month", lookup_expr="lte", input_formats=["%Y-%m", "%Y-%m-%d"])

    class Meta:
        model = Budget
        fields: ClassVar[list[str]] = []


class BudgetViewSet(HouseholdScopedViewSet):
    """Budget lines. POST sets the line of (category, month): it creates it, or updates the one there."""

    model = Budget
    serializer_class = s.BudgetSerializer
    filterset_class = BudgetFilter
    ordering_fields = ["month", "id"]
    ordering = ["-month", "id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("household")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        line = self.create_through(serializer, budget_lines.budget_set)
        serializer.instance = Budget.objects.select_related("household").get(pk=line.pk)

    def perform_update(self, serializer: serializers.BaseSerializer[Budget]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        line = budget_lines.budget_update(budget=bound_instance(serializer), **data)
        serializer.instance = Budget.objects.select_related("household").get(pk=line.pk)

    def perform_destroy(self, instance: Budget) -> None:
        budget_lines.budget_delete(budget=instance)

    @extend_schema(request=s.BudgetFillSerializer, responses={200: {"type": "object"}})
    @action(detail=False, methods=["post"], url_path="fill-from-average")
    def fill_from_average(self, request: Request) -> Response:
        """Budget each expense category at its average over the complete past budget months; names them."""
        body = s.BudgetFillSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        household = self.household_for_create(request, visible_household(request, data["household"]))
        result = budget_lines.budget_fill_from_average(
            household=household, month=data["month"], months=data["months"], overwrite=data["overwrite"]
        )
        return Response(
            {
                "month": f"{data['month']:%Y-%m}",
                "months_used": [f"{m:%Y-%m}" for m in result.months],
                "created": result.created,
                "updated": result.updated,
                "skipped": result.skipped,
            }
        )


class ScheduledFilter(django_filters.FilterSet):
    household = django_filters.NumberFilter(field_name="household_id")
    account = django_filters.NumberFilter(field_name="account_id")
    active = StrictBooleanFilter()

    class Meta:
        model = ScheduledTransaction
        fields: ClassVar[list[str]] = []


class ScheduledTransactionViewSet(HouseholdScopedViewSet):
    model = ScheduledTransaction
    serializer_class = s.ScheduledTransactionSerializer
    filterset_class = ScheduledFilter
    ordering_fields = ["next_due", "id"]
    ordering = ["id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("account", "to_account", "category")

    def _reload(self, pk: int) -> ScheduledTransaction:
        return self.scope_queryset(ScheduledTransaction.objects.filter(pk=pk)).get()

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        scheduled = self.create_through(serializer, schedules.scheduled_create)
        serializer.instance = self._reload(scheduled.pk)

    def perform_update(self, serializer: serializers.BaseSerializer[ScheduledTransaction]) -> None:
        scheduled = schedules.scheduled_update(scheduled=bound_instance(serializer), **serializer.validated_data)
        serializer.instance = self._reload(scheduled.pk)

    def perform_destroy(self, instance: ScheduledTransaction) -> None:
        schedules.scheduled_delete(scheduled=instance)

    @extend_schema(
        parameters=[s.UpcomingQuerySerializer], responses={200: {"type": "array", "items": {"type": "object"}}}
    )
    @action(detail=False, methods=["get"])
    def upcoming(self, request: Request) -> Response:
        """Occurrences due in the next `days` days (overdue ones first), across the household's schedules."""
        query = validated_query(s.UpcomingQuerySerializer, request)
        household = visible_household(request, query["household"])
        items = selectors.scheduled_upcoming(household, today=timezone.localdate(), days=query["days"])
        return Response([s.UpcomingSerializer(item).data for item in items])


class SharedDataPermission(permissions.IsAuthenticated):
    """Rates are shared reference data: everyone signed in reads them; a write needs the model's own permission
    (`budgets.add_exchangerate`, …) granted explicitly, or a superuser. Staff status and household roles do not
    count: every admin user is staff, viewers included."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        action: Action = "view"
        if request.method not in permissions.SAFE_METHODS:
            action = "add" if request.method == "POST" else METHOD_ACTIONS.get(request.method or "", "change")
        return may_on_shared_data(request.user, action, ExchangeRate)


class ExchangeRateFilter(django_filters.FilterSet):
    base = django_filters.CharFilter()
    quote = django_filters.CharFilter()
    date_after = BoundedDateFilter(field_name="date", lookup_expr="gte", input_formats=["%Y-%m-%d"])
    date_before = BoundedDateFilter(field_name="date", lookup_expr="lte", input_formats=["%Y-%m-%d"])

    class Meta:
        model = ExchangeRate
        fields: ClassVar[list[str]] = []


class ExchangeRateViewSet(viewsets.ModelViewSet):
    """Global reference data, so not household-scoped: `restrict` is the policy of `GlobalQuerySet`."""

    serializer_class = s.ExchangeRateSerializer
    permission_classes = [SharedDataPermission]
    filterset_class = ExchangeRateFilter
    ordering = ["-date", "id"]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        return ExchangeRate.objects.restrict(self.request.user, "view")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = rates.exchange_rate_create(**serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[ExchangeRate]) -> None:
        data: dict[str, Any] = dict(serializer.validated_data)
        serializer.instance = rates.exchange_rate_update(exchange_rate=bound_instance(serializer), **data)


# --- Reports ---------------------------------------------------------------------------------------------


class Report(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


class ReportView(APIView):
    """One report: its query parameters validated by `query_serializer`, the household checked (404 when the
    person may not see it), the selector called, and the report's `as_dict()` returned as is.

    `response_serializer` only describes that body in the OpenAPI schema; each subclass gets its schema from
    the two attributes, so a report cannot be added without one."""

    query_serializer: ClassVar[type[serializers.Serializer]]
    response_serializer: ClassVar[type[serializers.Serializer]]
    # The selector, called with the household and then these query values in order; a report that needs
    # anything else overrides `report()`.
    selector: ClassVar[Callable[..., Report]]
    arguments: ClassVar[tuple[str, ...]] = ("start", "end")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        extend_schema(parameters=[cls.query_serializer], responses={200: cls.response_serializer})(cls)

    def report(self, household: Household, query: dict[str, Any]) -> Report:
        return type(self).selector(household, *(query[name] for name in self.arguments))

    def get(self, request: Request) -> Response:
        query = validated_query(self.query_serializer, request)
        household = visible_household(request, query["household"])
        return Response(self.report(household, query).as_dict())


class BudgetReportView(ReportView):
    """The budget report of one month: per category budgeted, spent, carried over, available, % used."""

    query_serializer = s.BudgetReportQuerySerializer
    response_serializer = report_schemas.BudgetReportSerializer
    selector = selectors.budget_report_for_month
    arguments = ("month",)


class CashflowReportView(ReportView):
    """Income, expense and net per budget month over a range of months."""

    query_serializer = s.MonthRangeQuerySerializer
    response_serializer = report_schemas.CashflowReportSerializer
    selector = selectors.cashflow_report


class SpendingReportView(ReportView):
    """Spending per expense category (subcategories rolled up) over a range of budget months."""

    query_serializer = s.MonthRangeQuerySerializer
    response_serializer = report_schemas.SpendingReportSerializer
    selector = selectors.spending_by_category


class NetWorthReportView(ReportView):
    """Each account's balance and the total in the base currency at each calendar month's end."""

    query_serializer = s.MonthRangeQuerySerializer
    response_serializer = report_schemas.NetWorthReportSerializer
    selector = selectors.net_worth_report


class ForecastReportView(ReportView):
    """Each open account's projected balance at the end of the coming months, from its schedules."""

    query_serializer = s.ForecastQuerySerializer
    response_serializer = report_schemas.ForecastReportSerializer

    def report(self, household: Household, query: dict[str, Any]) -> Report:
        return selectors.forecast_report(household, today=timezone.localdate(), months=query["months"])
