"""Demo planning data (budgets, scheduled transactions, rates) for `seed_demo`."""

from __future__ import annotations

from datetime import date

from ledger.models import Household


def seed_planning_demo(*, household: Household, today: date) -> None:
    """Called by `manage.py seed_demo` after the ledger demo data exists. Filled in by the budgets app."""
