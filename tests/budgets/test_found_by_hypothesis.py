"""Defects the property tests found, kept as ordinary tests (shrunk to their essence)."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from budgets.selectors import budget_report_for_month, cashflow_report, exchange_rate_on, net_worth_report
from ledger.services.transactions import SplitLine, transaction_create
from tests.budgets.factories import BudgetFactory, ExchangeRateFactory
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


def _kwd_account_in_a_usd_household(books: Books) -> Any:
    """Found by the 10,000-example run: EUR→KWD and EUR→USD at the same rate make KWD→USD exactly 1, but
    (1 / 1.0841) * 1.0841 was 0.99999999999999999990 to PostgreSQL, so a half cent fell the wrong way."""
    household = books.household
    household.base_currency = "USD"
    household.save(update_fields=["base_currency"])
    ExchangeRateFactory(date=JAN, base="EUR", quote="KWD", rate=Decimal("1.0841"))
    ExchangeRateFactory(date=JAN, base="EUR", quote="USD", rate=Decimal("1.0841"))
    return AccountFactory(household=household, currency="KWD", opening_date=datetime.date(2023, 1, 1))


def test_a_cross_rate_of_exactly_one_converts_a_half_cent_split_up(books: Books) -> None:
    kwd = _kwd_account_in_a_usd_household(books)
    transaction_create(
        account=kwd,
        date=datetime.date(2024, 3, 8),
        amount="-65.158",
        splits=[
            SplitLine(category=books.groceries, amount=Decimal("-0.003")),
            SplitLine(category=books.groceries, amount=Decimal("-65.155")),
        ],
    )

    march = cashflow_report(books.household, datetime.date(2024, 3, 1), datetime.date(2024, 3, 1)).as_dict()

    # Each split converts on its own: -0.003 → -0.00 and -65.155 → -65.16 (half away from zero).
    assert march["months"][0]["expense"] == "65.16"
    assert march["months"][0]["net"] == "-65.16"


def test_net_worth_converts_a_balance_at_an_exact_cross_rate(books: Books) -> None:
    kwd = _kwd_account_in_a_usd_household(books)
    transaction_create(account=kwd, date=datetime.date(2024, 3, 8), amount="-65.155")

    report = net_worth_report(books.household, datetime.date(2024, 3, 1), datetime.date(2024, 3, 1)).as_dict()

    (line,) = [a for a in report["months"][0]["accounts"] if a["account"] == kwd.pk]
    assert line["balance"] == "-65.155"
    assert line["converted"] == "-65.16"


def test_the_rate_shown_for_an_exact_cross_rate_is_one(books: Books) -> None:
    _kwd_account_in_a_usd_household(books)
    assert exchange_rate_on("KWD", "USD", datetime.date(2024, 3, 8)) == 1
