"""The demo teaches the right lessons (#12): schedules match what is paid, the card is paid off monthly,
rules categorise imports, and the current month's figures make sense on any day, the 1st included."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from budgets.models import ScheduledTransaction
from budgets.months import add_months, budget_month_of
from budgets.selectors import budget_report_for_month
from ledger.demo import DEMO_HOUSEHOLD_NAME, RENT_PAYEE, SALARY_PAYEE, seed_demo
from ledger.models import Account, Household, Transaction
from ledger.rules import rules_apply
from ledger.services.transactions import transaction_create

FIRST_OF_MONTH = datetime.date(2025, 6, 1)


@pytest.fixture
def demo(db: None) -> Household:
    seed_demo(today=FIRST_OF_MONTH)
    return Household.objects.get(name=DEMO_HOUSEHOLD_NAME)


def test_left_to_budget_is_not_negative_on_the_first_of_the_month(demo: Household) -> None:
    # Found in #12: "left to budget -3604.78" on the 1st, the month's salary not in yet.
    report = budget_report_for_month(demo, budget_month_of(demo, FIRST_OF_MONTH))

    assert report.income > 0
    assert report.budgeted > 0
    assert report.left_to_budget >= 0


def test_the_recurring_items_the_card_and_the_rules_are_coherent(demo: Household) -> None:
    # Seeding is the slow part: one demo serves the three lessons.
    scheduled_match_the_books(demo)
    card_paid_off_every_month(demo)
    rules_categorise_an_imported_supermarket_row(demo)


def scheduled_match_the_books(demo: Household) -> None:
    last_month = add_months(FIRST_OF_MONTH, -1)
    for payee in (RENT_PAYEE, SALARY_PAYEE):
        scheduled = ScheduledTransaction.objects.get(household=demo, payee=payee)
        paid = Transaction.objects.get(household=demo, payee=payee, date=last_month)
        assert (scheduled.amount, scheduled.account_id, scheduled.category_id) == (
            paid.amount,
            paid.account_id,
            paid.category_id,
        )
        assert scheduled.recurrence == f"FREQ=MONTHLY;BYMONTHDAY={paid.date.day}"


def card_paid_off_every_month(demo: Household) -> None:
    card = Account.objects.get(household=demo, kind="credit_card")
    month = add_months(FIRST_OF_MONTH, -20)
    while month < add_months(FIRST_OF_MONTH, -1):
        end = add_months(month, 1) - datetime.timedelta(days=1)
        rows = Transaction.objects.filter(account=card, date__lte=end)
        balance = card.opening_balance + (rows.aggregate(total=Sum("amount"))["total"] or Decimal(0))
        spent_this_month = -(
            rows.filter(date__gte=month, transfer__isnull=True).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        )
        # Only the month's own spending is owed at its end: last month's bill was paid on the 8th.
        assert balance == -spent_this_month, month
        month = add_months(month, 1)


def rules_categorise_an_imported_supermarket_row(demo: Household) -> None:
    checking = Account.objects.get(household=demo, name="Checking")
    row = transaction_create(account=checking, date=FIRST_OF_MONTH, amount="-23.40", payee="REWE Markt 1234")

    rules_apply(household=demo, queryset=Transaction.objects.filter(pk=row.pk))

    row.refresh_from_db()
    assert row.category is not None and row.category.name == "Groceries"
