"""Serializer fields shared by every app's API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from financetracker.core.api.parsers import NUL_MESSAGE, loads_bounded, nul_path
from financetracker.core.dates import DATE_RANGE_MESSAGE, date_in_range, validate_date_in_range
from financetracker.core.money import format_amount, parse_amount


@extend_schema_field({"type": "string", "format": "decimal", "example": "-12.30"})
class MoneyField(serializers.Field):
    """An exact amount, read and written as a string ("-12.30"), shown with its currency's places.

    `currency_from` is a dotted path from the serialized object to its currency code.
    """

    def __init__(self, *, currency_from: str | None = None, **kwargs: Any) -> None:
        self.currency_path = currency_from.split(".") if currency_from else None
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        amount = super().get_attribute(instance)
        if not self.currency_path:
            return amount, None
        currency = instance
        for part in self.currency_path:
            currency = getattr(currency, part, None) if currency is not None else None
        return amount, currency

    def to_representation(self, value: Any) -> str | None:
        amount, currency = value if isinstance(value, tuple) else (value, None)
        if amount is None:
            return None
        if currency:
            return format_amount(Decimal(amount), currency)
        return f"{Decimal(amount).normalize():f}"

    def to_internal_value(self, data: Any) -> Decimal:
        try:
            return parse_amount(data)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class HouseholdScopedRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key whose choices are the requesting person's households' rows — nothing else exists."""

    def get_queryset(self) -> Any:
        queryset: Any = super().get_queryset()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return queryset.restrict(user, "view")


@extend_schema_field(OpenApiTypes.DATE)
class StrictDateField(serializers.DateField):
    """ISO dates only (YYYY-MM-DD), within the books' range (`financetracker.core.dates`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", ["iso-8601"])
        super().__init__(**kwargs)

    def to_internal_value(self, value: Any) -> Any:
        parsed = super().to_internal_value(value)
        if not date_in_range(parsed):
            raise serializers.ValidationError(DATE_RANGE_MESSAGE)
        return parsed


class BoundedJSONField(serializers.JSONField):
    """A JSON value stored in a jsonb column: nesting bounded and NUL characters refused at any depth.

    A JSON request body is already checked by the parser; this covers JSON sent as a string in a form.
    """

    def decode(self, text: str) -> Any:
        try:
            return loads_bounded(text)
        except ParseError as error:
            raise serializers.ValidationError(str(error.detail)) from None
        except serializers.ValidationError:
            raise serializers.ValidationError(NUL_MESSAGE) from None

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str) and (self.binary or getattr(data, "is_json_string", False)):
            data = self.decode(data)
        value = super().to_internal_value(data)
        if nul_path(value) is not None:
            raise serializers.ValidationError(NUL_MESSAGE)
        return value


class BoundedDateFilter(django_filters.DateFilter):
    """A date query parameter within the books' range: 9999-12-31 is a 400 with a message, like in a body."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [validate_date_in_range])
        super().__init__(*args, **kwargs)


class StrictNullBooleanSelect(forms.NullBooleanSelect):
    """The yes/no/any select, handing a value it does not know to the field (which refuses it) instead of
    reading it as "any": `?archived=ture` listed archived and active accounts alike."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        raw = data.get(name)
        if raw in ("1", "0"):  # read as "any" by Django's select, meant as yes and no
            return raw == "1"
        known = super().value_from_datadict(data, files, name)
        return raw if known is None and raw not in (None, "", "unknown") else known


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictNullBooleanSelect

    def to_python(self, value: Any) -> Any:  # True, False or None (the stubs type it as BooleanField's)
        if value in (True, False, None):
            return value
        raise DjangoValidationError(f"{str(value)[:40]!r} is not a yes/no value: use true or false.", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField
