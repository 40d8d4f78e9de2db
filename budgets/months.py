"""Budget months: the one place that knows how a label month maps to dates (see `budgets.models`)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from financetracker.core.dates import EARLIEST_DATE, LATEST_DATE
from ledger.models import Household

_MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})(?:-01)?$")


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after `month`'s month."""
    index = month.year * 12 + (month.month - 1) + count
    return date(index // 12, index % 12 + 1, 1)


def budget_month_range(household: Household, month: date) -> tuple[date, date]:
    """First and last day (inclusive) of the budget month labelled `month` for this household.

    Start day 1: the calendar month. Start day d > 1: day d of the previous calendar month up to day d-1
    of the label month ("March" with payday 25 runs 25 Feb..24 Mar).
    """
    label = month.replace(day=1)
    start_day = household.budget_month_start_day
    start = label if start_day == 1 else add_months(label, -1).replace(day=start_day)
    end = (add_months(label, 1) if start_day == 1 else label.replace(day=start_day)) - timedelta(days=1)
    return start, end


def budget_month_of(household: Household, day: date) -> date:
    """The label month of the budget month that contains `day`."""
    start_day = household.budget_month_start_day
    label = day.replace(day=1)
    if start_day > 1 and day.day >= start_day:
        label = add_months(label, 1)
    return label


def label_month_sql(date_sql: str, start_day_sql: str) -> str:
    """SQL for the label month of `date_sql` — the same rule as `budget_month_of`."""
    return (
        f"(date_trunc('month', ({date_sql}) - (({start_day_sql}) - 1)) "
        f"+ CASE WHEN ({start_day_sql}) > 1 THEN interval '1 month' ELSE interval '0' END)::date"
    )


def parse_month(text: str) -> date:
    """'2024-03' (or '2024-03-01') → date(2024, 3, 1); ValueError otherwise, also outside `financetracker.core.dates`' range."""
    match = _MONTH_TEXT.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a month such as 2024-03.")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a month such as 2024-03.")
    if not EARLIEST_DATE.year <= year <= LATEST_DATE.year:
        raise ValueError(f"Give a month from {EARLIEST_DATE:%Y-%m} to {LATEST_DATE:%Y-%m}.")
    return date(year, month, 1)


def month_index(month: date) -> int:
    return month.year * 12 + month.month - 1


def month_start_sql(month_sql: str, start_day_sql: str) -> str:
    """SQL for the first day of the budget month labelled `month_sql` — the same rule as `budget_month_range`."""
    return (
        f"(({month_sql})::date - CASE WHEN ({start_day_sql}) > 1 THEN interval '1 month' ELSE interval '0' END "
        f"+ (({start_day_sql}) - 1) * interval '1 day')::date"
    )
