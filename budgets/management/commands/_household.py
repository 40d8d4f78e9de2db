"""Argument helpers shared by the budgets commands."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError

from budgets.months import parse_month
from ledger.models import Household


def household_arg(household_id: int) -> Household:
    household = Household.objects.filter(pk=household_id).first()
    if household is None:
        raise CommandError(f"No household has id {household_id}.")
    return household


def month_arg(text: str, option: str) -> date:
    try:
        return parse_month(text)
    except ValueError as error:
        raise CommandError(f"{option}: {error}") from None
