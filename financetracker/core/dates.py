"""The range of dates the books accept: every date a person enters, and every month a report is asked for.

Reports and budget months step months forwards and backwards from the dates they are given (payday months,
rollover, forecasts, twelve-month ranges); bounding input well inside Python's and PostgreSQL's calendars
keeps every derived date representable, so an extreme date is a 400 with a message, never a 500.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db import models

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_MESSAGE = f"Give a date from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}."


def date_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE


def validate_date_in_range(value: date) -> None:
    """A Django validator (forms, filters) with the same bound as the API's date fields."""
    from django.core.exceptions import ValidationError

    if not date_in_range(value):
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def dates_out_of_range(instance: models.Model, exclude: Collection[str] | None = None) -> list[str]:
    """The editable date fields of `instance` holding a date outside the books' range (what its `clean_fields`
    refuses, so every full_clean — services, admin forms, commands — applies the API's bound)."""
    return [
        field.name
        for field in instance._meta.concrete_fields
        if field.get_internal_type() == "DateField"
        and field.editable
        and field.name not in (exclude or ())
        and isinstance(value := getattr(instance, field.attname), date)
        and not isinstance(value, datetime)
        and not date_in_range(value)
    ]
