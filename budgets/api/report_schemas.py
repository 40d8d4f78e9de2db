"""The reports' response shapes, for the OpenAPI schema only: each mirrors its report's `as_dict()` field by
field (tests/budgets/test_report_schemas.py validates real bodies against them, so the two cannot drift).
The views never serialize through these: the bodies are `as_dict()` itself."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field({"type": "string", "format": "decimal", "example": "-12.30"})
class AmountField(serializers.Field):
    """An exact amount as a string, with its currency's places."""


@extend_schema_field({"type": "string", "example": "2024-03"})
class MonthStringField(serializers.Field):
    """A month as "YYYY-MM"."""


class MissingRateSerializer(serializers.Serializer):
    """An amount left out of the figures for want of an exchange rate on its day."""

    currency = serializers.CharField()
    date = serializers.DateField()
    amount = AmountField()


class CategoryLineSerializer(serializers.Serializer):
    """The category a report line is about."""

    category = serializers.IntegerField()
    name = serializers.CharField()

    def get_fields(self) -> dict[str, serializers.Field]:
        # `parent` is also an attribute of every DRF field, so it cannot be declared on the class body.
        return {**super().get_fields(), "parent": serializers.IntegerField(allow_null=True)}


# --- Budget report --------------------------------------------------------------------------------------


class BudgetReportLineSerializer(CategoryLineSerializer):
    """An expense category's month: budgeted, spent, carried over, available."""

    budgeted = AmountField()
    spent = AmountField()
    carried_over = AmountField()
    available = AmountField()
    percent_used = serializers.CharField(allow_null=True, help_text="Of budgeted plus carried over; null if none.")
    rollover = serializers.BooleanField()
    over_budget = serializers.BooleanField()
    near_limit = serializers.BooleanField()
    missing_rate = serializers.BooleanField()


class BudgetReportCategorySerializer(BudgetReportLineSerializer):
    """A top-level expense category, its subcategories rolled up into it and listed under `children`."""

    children = BudgetReportLineSerializer(many=True)


class BudgetReportIncomeSerializer(CategoryLineSerializer):
    """An income category's receipts in the month."""

    received = AmountField()


class BudgetReportTotalsSerializer(serializers.Serializer):
    budgeted = AmountField()
    spent = AmountField()
    carried_over = AmountField()
    available = AmountField()
    income = AmountField()
    left_to_budget = AmountField()
    uncategorized = AmountField()


class BudgetReportSerializer(serializers.Serializer):
    household = serializers.IntegerField()
    month = MonthStringField()
    start = serializers.DateField()
    end = serializers.DateField()
    currency = serializers.CharField()
    categories = BudgetReportCategorySerializer(many=True)
    income_categories = BudgetReportIncomeSerializer(many=True)
    totals = BudgetReportTotalsSerializer()
    over_budget = serializers.ListField(child=serializers.IntegerField(), help_text="Category ids.")
    near_limit = serializers.ListField(child=serializers.IntegerField(), help_text="Category ids.")
    missing_rates = MissingRateSerializer(many=True)


# --- Cash flow ------------------------------------------------------------------------------------------


class CashflowFiguresSerializer(serializers.Serializer):
    income = AmountField()
    expense = AmountField()
    net = AmountField()


class CashflowMonthSerializer(CashflowFiguresSerializer):
    month = MonthStringField()


class CashflowReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    months = CashflowMonthSerializer(many=True)
    totals = CashflowFiguresSerializer()
    missing_rates = MissingRateSerializer(many=True)


# --- Spending -------------------------------------------------------------------------------------------


class SpendingLineSerializer(CategoryLineSerializer):
    """An expense category's spending over the range."""

    spent = AmountField()


class SpendingCategorySerializer(SpendingLineSerializer):
    """A top-level expense category, its subcategories' spending included and listed under `children`."""

    children = SpendingLineSerializer(many=True)


class SpendingReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    categories = SpendingCategorySerializer(many=True)
    total = AmountField()
    missing_rates = MissingRateSerializer(many=True)


# --- Net worth ------------------------------------------------------------------------------------------


class NetWorthAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    kind = serializers.CharField()


class NetWorthBalanceSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    balance = AmountField(help_text="In the account's currency.")
    converted = AmountField(allow_null=True, help_text="In the base currency; null without a rate.")
    missing_rate = serializers.BooleanField()


class NetWorthMonthSerializer(serializers.Serializer):
    month = MonthStringField()
    end = serializers.DateField()
    accounts = NetWorthBalanceSerializer(many=True)
    total = AmountField()


class NetWorthReportSerializer(serializers.Serializer):
    currency = serializers.CharField()
    accounts = NetWorthAccountSerializer(many=True)
    months = NetWorthMonthSerializer(many=True)
    missing_rates = MissingRateSerializer(many=True)


# --- Forecast -------------------------------------------------------------------------------------------


class ForecastPointSerializer(serializers.Serializer):
    month = MonthStringField()
    end = serializers.DateField()
    balance = AmountField()


class ForecastAccountSerializer(serializers.Serializer):
    account = serializers.IntegerField()
    name = serializers.CharField()
    currency = serializers.CharField()
    balance = AmountField(help_text="Now.")
    projection = ForecastPointSerializer(many=True)


class ForecastReportSerializer(serializers.Serializer):
    today = serializers.DateField()
    months = serializers.ListField(child=MonthStringField())
    accounts = ForecastAccountSerializer(many=True)
