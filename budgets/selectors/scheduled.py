"""Scheduled transactions: occurrences from the recurrence, next due date, upcoming bills."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import islice

from budgets.models import ScheduledTransaction, recurrence_rule
from ledger.models import Household

# --- Scheduled transactions -------------------------------------------------------------------------------


def scheduled_occurrences(scheduled: ScheduledTransaction, *, after: date | None = None, until: date) -> Iterator[date]:
    """The schedule's dates in (after, until], honouring its end date and occurrence count."""
    rule = recurrence_rule(scheduled.recurrence, scheduled.start_date)
    dates: Iterator[date] = (moment.date() for moment in rule)
    if scheduled.occurrence_count is not None:
        dates = islice(dates, scheduled.occurrence_count)
    for day in dates:
        if day > until or (scheduled.end_date is not None and day > scheduled.end_date):
            return
        if after is None or day > after:
            yield day


def scheduled_next_due(scheduled: ScheduledTransaction, *, after: date | None) -> date | None:
    """The first occurrence strictly after `after` (or the first of all), None once the schedule has ended."""
    limit = scheduled.end_date or date.max
    return next(scheduled_occurrences(scheduled, after=after, until=limit), None)


def day_before(day: date | None) -> date | None:
    return None if day is None else day - timedelta(days=1)


@dataclass(frozen=True)
class UpcomingOccurrence:
    scheduled: ScheduledTransaction
    date: date
    overdue: bool


def scheduled_upcoming(household: Household, *, today: date, days: int) -> list[UpcomingOccurrence]:
    """Every occurrence due up to `today + days` (overdue ones included), in date order. One query."""
    until = today + timedelta(days=days)
    templates = (
        ScheduledTransaction.objects.filter(
            household=household, active=True, next_due__isnull=False, next_due__lte=until
        )
        .select_related("account", "to_account", "category")
        .order_by("next_due", "id")
    )
    upcoming = [
        UpcomingOccurrence(scheduled=template, date=day, overdue=day < today)
        for template in templates
        for day in scheduled_occurrences(template, after=day_before(template.next_due), until=until)
    ]
    return sorted(upcoming, key=lambda item: (item.date, item.scheduled.pk))
