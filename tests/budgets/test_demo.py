"""The planning demo: budgets, schedules and rates on top of the ledger demo, idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from budgets.demo import seed_planning_demo
from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from budgets.months import add_months
from budgets.selectors import budget_report_for_month
from ledger.services.transactions import transaction_create
from tests.factories import AccountFactory, Books

TODAY = datetime.date(2024, 6, 12)


def test_it_seeds_budgets_schedules_and_rates_once(books: Books) -> None:
    usd = AccountFactory(household=books.household, name="US card", currency="USD")
    for months_back in range(1, 5):
        day = add_months(TODAY.replace(day=10), -months_back)
        transaction_create(account=books.checking, date=day, amount="-300.00", category=books.groceries)
        transaction_create(account=usd, date=day, amount="-54.00", category=books.restaurants)

    seed_planning_demo(household=books.household, today=TODAY)
    counts = (Budget.objects.count(), ScheduledTransaction.objects.count(), ExchangeRate.objects.count())
    seed_planning_demo(household=books.household, today=TODAY)

    assert (Budget.objects.count(), ScheduledTransaction.objects.count(), ExchangeRate.objects.count()) == counts
    assert ScheduledTransaction.objects.count() == 4
    assert ScheduledTransaction.objects.filter(to_account=books.savings).exists()
    assert ExchangeRate.objects.filter(quote="USD").count() == 2 * 366 + 32
    june = {line.category_id: line.amount for line in Budget.objects.filter(month=datetime.date(2024, 6, 1))}
    assert june[books.groceries.pk] == Decimal("300.00")
    assert set(Budget.objects.values_list("month", flat=True)) == {datetime.date(2024, 5, 1), datetime.date(2024, 6, 1)}
    report = budget_report_for_month(books.household, datetime.date(2024, 5, 1))
    assert report.missing_rates == []
    assert report.line(books.restaurants.pk).spent > 0
