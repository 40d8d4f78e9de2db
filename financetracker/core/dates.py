"""The range of dates the books accept: every date a person enters, and every month a report is asked for.

Reports and budget months step months forwards and backwards from the dates they are given (payday months,
rollover, forecasts, twelve-month ranges); bounding input well inside Python's and PostgreSQL's calendars
keeps every derived date representable, so an extreme date is a 400 with a message, never a 500.
"""

from __future__ import annotations

from datetime import date

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
