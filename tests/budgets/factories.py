"""factory-boy factories for the budgets app's models."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import factory

from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from budgets.services.schedules import scheduled_create
from tests.factories import AccountFactory, Books, CategoryFactory, DjangoModelFactory


class BudgetFactory(DjangoModelFactory[Budget]):
    class Meta:
        model = Budget

    category = factory.SubFactory(CategoryFactory)
    household = factory.SelfAttribute("category.household")
    month = datetime.date(2024, 3, 1)
    amount = Decimal("100.00")
    rollover = False


class ScheduledTransactionFactory(DjangoModelFactory[ScheduledTransaction]):
    """Writes a row directly; `next_due` defaults to the start date like `scheduled_create` would set."""

    class Meta:
        model = ScheduledTransaction

    account = factory.SubFactory(AccountFactory)
    household = factory.SelfAttribute("account.household")
    amount = Decimal("-50.00")
    payee = factory.Sequence(lambda n: f"Biller {n}")
    recurrence = "FREQ=MONTHLY"
    start_date = datetime.date(2024, 1, 1)
    next_due = factory.SelfAttribute("start_date")


class ExchangeRateFactory(DjangoModelFactory[ExchangeRate]):
    class Meta:
        model = ExchangeRate
        django_get_or_create = ("date", "base", "quote")

    date = datetime.date(2024, 1, 1)
    base = "EUR"
    quote = "USD"
    rate = Decimal("1.1000000000")


def schedule(books: Books, **fields: Any) -> ScheduledTransaction:
    """scheduled_create in the books' household, from its checking account unless `fields` name another."""
    return scheduled_create(**{"household": books.household, "account": books.checking, **fields})


def monthly_schedule(books: Books, start_date: datetime.date, amount: str, **fields: Any) -> ScheduledTransaction:
    """`schedule` due every month on the day of the month `start_date` falls on, from `start_date`."""
    recurrence = f"FREQ=MONTHLY;BYMONTHDAY={start_date.day}"
    return schedule(books, amount=amount, recurrence=recurrence, start_date=start_date, **fields)
