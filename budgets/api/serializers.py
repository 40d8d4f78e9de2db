"""Thin serializers: shape and field validation here, rules in services."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from budgets.months import add_months, month_index, parse_month
from budgets.services.budget_lines import BUDGET_EDITABLE_FIELDS
from budgets.services.rates import EXCHANGE_RATE_EDITABLE_FIELDS
from budgets.services.schedules import SCHEDULED_EDITABLE_FIELDS
from financetracker.core.api.fields import HouseholdScopedRelatedField, MoneyField, StrictDateField
from financetracker.core.api.strict import QueryStringSerializer, StrictModelSerializer, StrictSerializer
from financetracker.core.money import CURRENCY_CHOICES
from ledger.api.serializers import HouseholdOwnedSerializer
from ledger.models import Account, Category

MAX_ID = 2**63 - 1
MAX_REPORT_MONTHS = 240


@extend_schema_field({"type": "string", "example": "2024-03"})
class MonthField(serializers.Field):
    """A budget month as "YYYY-MM" (also accepts "YYYY-MM-01")."""

    def to_internal_value(self, data: Any) -> date:
        if not isinstance(data, str):
            raise serializers.ValidationError("Give a month such as 2024-03.")
        try:
            return parse_month(data)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None

    def to_representation(self, value: date) -> str:
        return f"{value:%Y-%m}"


class BudgetSerializer(HouseholdOwnedSerializer):
    category = HouseholdScopedRelatedField(queryset=Category.objects.all())
    month = MonthField()
    amount = MoneyField(currency_from="household.base_currency")

    class Meta:
        model = Budget
        fields = ["id", *BUDGET_EDITABLE_FIELDS.api_fields, "updated_at"]
        read_only_fields = ["id", "updated_at"]
        # POST sets the line of (category, month), creating or updating it: no "already exists" validator.
        validators: ClassVar[list[Any]] = []

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            # A line is (category, month): change those by deleting and creating.
            for name in BUDGET_EDITABLE_FIELDS.create_only:
                fields[name].read_only = True
        return fields


class ScheduledTransactionSerializer(HouseholdOwnedSerializer):
    account = HouseholdScopedRelatedField(queryset=Account.objects.all())
    to_account = HouseholdScopedRelatedField(queryset=Account.objects.all(), required=False, allow_null=True)
    category = HouseholdScopedRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    amount = MoneyField(currency_from="account.currency")
    to_amount = MoneyField(currency_from="to_account.currency", required=False, allow_null=True)
    start_date = StrictDateField()
    end_date = StrictDateField(required=False, allow_null=True)

    class Meta:
        model = ScheduledTransaction
        fields = ["id", *SCHEDULED_EDITABLE_FIELDS.api_fields_showing("occurrence_count", "next_due"), "updated_at"]
        read_only_fields = ["id", "next_due", "updated_at"]


class UpcomingSerializer(StrictSerializer):
    def to_representation(self, instance: Any) -> dict[str, Any]:
        scheduled: ScheduledTransaction = instance.scheduled
        amount = MoneyField(currency_from="account.currency").to_representation(
            (scheduled.amount, scheduled.account.currency)
        )
        return {
            "scheduled": scheduled.pk,
            "date": instance.date.isoformat(),
            "overdue": instance.overdue,
            "account": scheduled.account_id,
            "account_name": scheduled.account.name,
            "to_account": scheduled.to_account_id,
            "amount": amount,
            "currency": scheduled.account.currency,
            "payee": scheduled.payee,
            "description": scheduled.description,
            "category": scheduled.category_id,
        }


class ExchangeRateSerializer(StrictModelSerializer):
    date = StrictDateField()
    base = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    quote = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    rate = MoneyField()  # no currency: a rate is shown as the plain decimal it is stored as

    class Meta:
        model = ExchangeRate
        fields = ["id", *EXCHANGE_RATE_EDITABLE_FIELDS.api_fields]
        read_only_fields = ["id"]

    def validate_rate(self, value: Any) -> Any:
        if value <= 0:
            raise serializers.ValidationError("A rate must be positive.")
        if value.as_tuple().exponent < -10:
            raise serializers.ValidationError("A rate has at most 10 decimal places.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        base = attrs.get("base", getattr(self.instance, "base", None))
        quote = attrs.get("quote", getattr(self.instance, "quote", None))
        if base == quote:
            raise serializers.ValidationError({"quote": ["Choose two different currencies."]})
        return attrs


# --- Report query parameters ----------------------------------------------------------------------------


class HouseholdQuerySerializer(QueryStringSerializer):
    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class BudgetReportQuerySerializer(HouseholdQuerySerializer):
    month = MonthField()


class BudgetFillSerializer(StrictSerializer):
    """A request body (unlike the query serializers around it): its unknown keys are refused."""

    household = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    month = MonthField(help_text="The month to fill, YYYY-MM.")
    months = serializers.IntegerField(min_value=1, max_value=24, default=3, help_text="How many months back.")
    overwrite = serializers.BooleanField(default=False, help_text="Replace lines already set.")


class MonthRangeQuerySerializer(HouseholdQuerySerializer):
    start = MonthField(required=False, help_text="First month, YYYY-MM (default: 11 months before `end`).")
    end = MonthField(required=False, help_text="Last month, YYYY-MM (default: the current month).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        from django.utils import timezone

        end = attrs.get("end") or timezone.localdate().replace(day=1)
        start = attrs.get("start") or add_months(end, -11)
        if start > end:
            raise serializers.ValidationError({"start": ["The first month comes after the last one."]})
        if month_index(end) - month_index(start) >= MAX_REPORT_MONTHS:
            raise serializers.ValidationError({"end": [f"Ask for at most {MAX_REPORT_MONTHS} months at a time."]})
        return {**attrs, "start": start, "end": end}


class ForecastQuerySerializer(HouseholdQuerySerializer):
    months = serializers.IntegerField(min_value=1, max_value=60, default=12)


class UpcomingQuerySerializer(HouseholdQuerySerializer):
    days = serializers.IntegerField(min_value=0, max_value=366, default=30)
