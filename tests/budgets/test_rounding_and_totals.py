"""One rounding rule: each converted amount is rounded to the base currency's places (halves away from
zero), then summed, so every total shown equals the sum of the parts shown (README "Rounding and totals").

The figures use a rate of 1 USD = 0.5 EUR, so 0.01 USD is exactly half a cent: rounding each part, or
only the total, or rounding halves to even, all give different answers here.
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from rest_framework.test import APIClient

from budgets.selectors import budget_report_for_month, cashflow_report, net_worth_report, spending_by_category
from financetracker.core.money import ROUNDING, quantize
from ledger.models import Category, User
from ledger.services.transactions import SplitLine, transaction_create
from tests.budgets.factories import BudgetFactory, ExchangeRateFactory
from tests.factories import AccountFactory, Books

D = Decimal
JAN, FEB = datetime.date(2024, 1, 1), datetime.date(2024, 2, 1)


def usd_account(books: Books, name: str = "US"):
    ExchangeRateFactory(date=datetime.date(2023, 12, 1), base="USD", quote="EUR", rate=D("0.5"))
    return AccountFactory(household=books.household, name=name, currency="USD", opening_date=datetime.date(2023, 1, 1))


def spend(account, day: datetime.date, amount: str, category=None, splits=()):
    return transaction_create(account=account, date=day, amount=amount, category=category, splits=splits)


def spent_in_dollars(books: Books, entries: list[tuple[int, int, str, Category]]) -> None:
    """One `spend` per (month, day in 2024, amount, category), all from a new US-dollar account."""
    usd = usd_account(books)
    for month, day, amount, category in entries:
        spend(usd, datetime.date(2024, month, day), amount, category)


def test_the_rounding_mode_is_half_away_from_zero_like_postgresql_round() -> None:
    assert ROUNDING == ROUND_HALF_UP
    assert quantize(D("0.125"), "EUR") == D("0.13")
    assert quantize(D("-0.125"), "EUR") == D("-0.13")
    assert quantize(D("2.5"), "JPY") == D("3")


def test_cashflow_total_equals_the_sum_of_its_months(books: Books) -> None:
    spent_in_dollars(books, [(1, 10, "-0.01", books.rent), (2, 10, "-0.01", books.rent), (2, 11, "0.03", books.salary)])

    data = cashflow_report(books.household, JAN, FEB).as_dict()

    months = data["months"]
    assert [m["expense"] for m in months] == ["0.01", "0.01"]
    assert data["totals"]["expense"] == "0.02" == str(sum(D(m["expense"]) for m in months))
    assert data["totals"]["income"] == str(sum(D(m["income"]) for m in months))
    assert data["totals"]["net"] == str(sum(D(m["net"]) for m in months))
    for month in months:
        assert D(month["net"]) == D(month["income"]) - D(month["expense"])


def test_each_transaction_is_converted_and_rounded_on_its_own(books: Books) -> None:
    spent_in_dollars(books, [(1, 10, "-0.01", books.rent), (1, 11, "-0.01", books.rent)])

    data = cashflow_report(books.household, JAN, JAN).as_dict()

    # 0.005 + 0.005 EUR: each rounds to 0.01, so the month spent 0.02 (not a rounded 0.010).
    assert data["months"][0]["expense"] == "0.02"


def test_a_split_line_is_converted_and_rounded_on_its_own(books: Books) -> None:
    usd = usd_account(books)
    lines = [SplitLine(category=books.groceries, amount=D("-0.01")), SplitLine(category=books.rent, amount=D("-0.01"))]
    spend(usd, datetime.date(2024, 1, 10), "-0.02", splits=lines)

    report = budget_report_for_month(books.household, JAN).as_dict()

    spent = {line["name"]: line["spent"] for line in report["categories"]}
    assert spent["Food"] == "0.01"
    assert spent["Rent"] == "0.01"
    assert report["totals"]["spent"] == "0.02"


def test_budget_report_totals_equal_the_sum_of_the_category_lines(books: Books) -> None:
    BudgetFactory(household=books.household, category=books.rent, month=JAN, amount=D("1.00"))
    spent_in_dollars(
        books, [(1, 10, "-0.01", books.rent), (1, 10, "-0.01", books.groceries), (1, 12, "0.01", books.salary)]
    )

    report = budget_report_for_month(books.household, JAN).as_dict()

    lines = report["categories"]
    for name in ("budgeted", "spent", "carried_over", "available"):
        assert D(report["totals"][name]) == sum(D(line[name]) for line in lines), name
    assert report["totals"]["income"] == "0.01"
    assert D(report["totals"]["left_to_budget"]) == D(report["totals"]["income"]) - D(report["totals"]["budgeted"])


def test_spending_total_equals_the_sum_of_its_categories(books: Books) -> None:
    spent_in_dollars(
        books, [(1, 10, "-0.01", books.rent), (1, 10, "-0.01", books.groceries), (1, 10, "-0.01", books.restaurants)]
    )

    data = spending_by_category(books.household, JAN, JAN).as_dict()

    assert data["total"] == "0.03" == str(sum(D(line["spent"]) for line in data["categories"]))
    food = next(line for line in data["categories"] if line["name"] == "Food")
    assert D(food["spent"]) == sum(D(child["spent"]) for child in food["children"])


def test_net_worth_total_equals_the_sum_of_the_converted_accounts(books: Books) -> None:
    for name in ("US one", "US two"):
        account = usd_account(books, name)
        spend(account, datetime.date(2024, 1, 10), "0.01")

    data = net_worth_report(books.household, JAN, JAN).as_dict()

    month = data["months"][0]
    converted = [D(a["converted"]) for a in month["accounts"] if a["converted"] is not None]
    assert month["total"] == "0.02" == str(sum(converted))


def test_the_cashflow_api_adds_up(books: Books, owner: User, client_for) -> None:
    usd = usd_account(books)
    for day in (datetime.date(2024, 1, 5), datetime.date(2024, 2, 5)):
        spend(usd, day, "-0.01", books.rent)
    client: APIClient = client_for(owner)

    response = client.get(
        "/api/v1/reports/cashflow/", {"household": str(books.household.pk), "start": "2024-01", "end": "2024-02"}
    )

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["totals"]["expense"] == str(sum(D(m["expense"]) for m in data["months"])) == "0.02"
