"""Who changed which budget or schedule, and what it was before."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from budgets.services.budget_lines import budget_copy_month, budget_delete, budget_set
from budgets.services.schedules import scheduled_create, scheduled_delete
from ledger.models import AuditEntry, Household
from tests.factories import AccountFactory, CategoryFactory

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2024, 3, 1)


def entries(object_type: str, object_id: int) -> list[tuple[str, dict]]:
    rows = AuditEntry.objects.filter(object_type=object_type, object_id=object_id).order_by("id")
    return [(row.action, row.changes) for row in rows]


def test_budget_lines_keep_their_history_after_deletion(household: Household) -> None:
    food = CategoryFactory(household=household, name="Food")
    line = budget_set(household=household, category=food, month=MARCH, amount="300.00")
    budget_set(household=household, category=food, month=MARCH, amount="350.00")
    budget_delete(budget=line)

    history = entries("budgets.budget", line.pk)
    assert [action for action, _changes in history] == ["create", "update", "delete"]
    assert history[1][1]["amount"] == ["300.00", "350.00"]
    assert history[2][1]["amount"] == "350.00"


def test_copying_a_month_records_one_entry_per_new_line(household: Household) -> None:
    for name, amount in (("Rent", "900.00"), ("Food", "300.00")):
        budget_set(
            household=household, category=CategoryFactory(household=household, name=name), month=MARCH, amount=amount
        )
    before = AuditEntry.objects.count()

    result = budget_copy_month(household=household, from_month=MARCH, to_month=datetime.date(2024, 4, 1))

    assert result.created == 2
    assert AuditEntry.objects.count() - before == 2


def test_scheduled_transactions_are_audited(household: Household) -> None:
    account = AccountFactory(household=household)
    scheduled = scheduled_create(
        household=household,
        account=account,
        amount=Decimal("-900.00"),
        payee="Landlord",
        recurrence="FREQ=MONTHLY",
        start_date=datetime.date(2024, 1, 1),
    )
    scheduled_id = scheduled.pk
    scheduled_delete(scheduled=scheduled)

    assert [action for action, _ in entries("budgets.scheduledtransaction", scheduled_id)] == ["create", "delete"]
