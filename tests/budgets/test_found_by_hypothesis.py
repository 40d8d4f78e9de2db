"""Defects the property tests found, kept as ordinary tests (shrunk to their essence)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from budgets.selectors import budget_report_for_month
from ledger.services.transactions import transaction_create
from tests.budgets.factories import BudgetFactory
from tests.factories import AccountFactory, Books

JAN, FEB = datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)


def test_budget_report_lists_only_missing_rates_of_amounts_it_counts(books: Books) -> None:
    # Found: with a rollover line in January, February's report listed every January amount without a
    # rate, although only the carried category's January amounts count in February's figures.
    usd = AccountFactory(household=books.household, currency="USD", opening_date=datetime.date(2023, 1, 1))
    BudgetFactory(
        household=books.household, category=books.groceries, month=JAN, amount=Decimal("50.00"), rollover=True
    )
    transaction_create(account=usd, date=datetime.date(2024, 1, 5), amount="-7.00", category=books.groceries)
    transaction_create(account=usd, date=datetime.date(2024, 1, 6), amount="-9.00", category=books.rent)

    report = budget_report_for_month(books.household, FEB).as_dict()

    assert report["missing_rates"] == [{"currency": "USD", "date": "2024-01-05", "amount": "-7.0000"}]
    assert report["categories"][0]["children"][0]["missing_rate"] is True
