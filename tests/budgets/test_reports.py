"""Cash flow, spending, net worth and forecast reports: figures, currencies and fixed query counts."""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.db import connection

from budgets.selectors import cashflow_report, forecast_report, net_worth_report, spending_by_category
from budgets.services.schedules import scheduled_create
from ledger.models import Transaction
from ledger.services.transactions import SplitLine, transaction_create, transfer_create
from tests.budgets.factories import ExchangeRateFactory, monthly_schedule
from tests.factories import AccountFactory, Books, CategoryFactory, TransactionFactory

D = Decimal
JAN, FEB, MAR = datetime.date(2024, 1, 1), datetime.date(2024, 2, 1), datetime.date(2024, 3, 1)


def tx(account, day: str, amount: str, category=None, splits=()) -> Transaction:
    return transaction_create(
        account=account, date=datetime.date.fromisoformat(day), amount=amount, category=category, splits=splits
    )


def seed_two_months(books: Books) -> None:
    tx(books.checking, "2024-01-25", "2500.00", books.salary)
    tx(books.checking, "2024-01-03", "-900.00", books.rent)
    tx(
        books.checking,
        "2024-01-10",
        "-80.00",
        splits=[
            SplitLine(category=books.groceries, amount=D("-60.00")),
            SplitLine(category=books.restaurants, amount=D("-20.00")),
        ],
    )
    tx(books.checking, "2024-01-11", "5.00", books.restaurants)  # a refund
    tx(books.checking, "2024-01-12", "-7.00")  # uncategorised
    transfer_create(
        from_account=books.checking, to_account=books.savings, date=datetime.date(2024, 1, 26), amount="1000.00"
    )
    tx(books.checking, "2024-02-25", "2500.00", books.salary)
    tx(books.checking, "2024-02-03", "-900.00", books.rent)
    tx(books.checking, "2024-02-15", "-40.00", books.groceries)


def test_cashflow_gives_income_expense_and_net_per_month(books: Books) -> None:
    seed_two_months(books)

    data = cashflow_report(books.household, JAN, MAR).as_dict()

    assert data["months"] == [
        {"month": "2024-01", "income": "2500.00", "expense": "982.00", "net": "1518.00"},
        {"month": "2024-02", "income": "2500.00", "expense": "940.00", "net": "1560.00"},
        {"month": "2024-03", "income": "0.00", "expense": "0.00", "net": "0.00"},
    ]
    assert data["totals"] == {"income": "5000.00", "expense": "1922.00", "net": "3078.00"}


def test_cashflow_follows_the_payday_month(books: Books) -> None:
    books.household.budget_month_start_day = 25
    books.household.save()
    seed_two_months(books)

    months = {row["month"]: row for row in cashflow_report(books.household, JAN, MAR).as_dict()["months"]}

    # Salary on 25 January belongs to "February" (25 Jan..24 Feb), the one on 25 February to "March".
    assert (months["2024-01"]["income"], months["2024-02"]["income"], months["2024-03"]["income"]) == (
        "0.00",
        "2500.00",
        "2500.00",
    )


def test_spending_rolls_children_into_parents_over_the_range(books: Books) -> None:
    seed_two_months(books)

    data = spending_by_category(books.household, JAN, FEB).as_dict()

    by_id = {line["category"]: line for line in data["categories"]}
    assert by_id[books.rent.pk]["spent"] == "1800.00"
    food = by_id[books.food.pk]
    assert food["spent"] == "115.00"  # 60 + 40 groceries, 20 - 5 restaurants
    assert {child["category"]: child["spent"] for child in food["children"]} == {
        books.groceries.pk: "100.00",
        books.restaurants.pk: "15.00",
    }
    assert data["total"] == "1915.00"
    assert books.salary.pk not in by_id


def test_net_worth_uses_month_totals_and_converts_at_the_month_end_rate(books: Books) -> None:
    seed_two_months(books)
    usd = AccountFactory(
        household=books.household,
        name="US",
        currency="USD",
        opening_balance=D("100.00"),
        opening_date=datetime.date(2024, 1, 1),
    )
    tx(usd, "2024-02-10", "-20.00", books.groceries)
    ExchangeRateFactory(date=datetime.date(2024, 2, 1), base="EUR", quote="USD", rate=D("1.6"))

    report = net_worth_report(books.household, JAN, FEB)
    data = report.as_dict()

    january, february = data["months"]
    us_january = next(row for row in january["accounts"] if row["account"] == usd.pk)
    assert (us_january["balance"], us_january["converted"], us_january["missing_rate"]) == ("100.00", None, True)
    # Checking: 2500 - 900 - 80 + 5 - 7 - 1000 = 518 ; savings 1000 ; USD left out (no rate yet).
    assert january["total"] == "1518.00"
    us_february = next(row for row in february["accounts"] if row["account"] == usd.pk)
    assert us_february["converted"] == "50.00"  # 80 USD at 1.6
    # Checking + 2500 - 900 - 40 = 2078 ; savings 1000 ; USD 50
    assert february["total"] == "3128.00"
    assert data["missing_rates"] == [{"currency": "USD", "date": "2024-01-31", "amount": "100.0000"}]


def test_forecast_projects_balances_from_schedules(books: Books) -> None:
    today = datetime.date(2024, 3, 10)
    books.checking.opening_balance = D("1000.00")
    books.checking.save()
    monthly_schedule(books, datetime.date(2024, 3, 25), "2000.00", category=books.salary)
    monthly_schedule(books, datetime.date(2024, 4, 1), "-900.00", category=books.rent)
    monthly_schedule(books, datetime.date(2024, 3, 26), "100.00", to_account=books.savings)

    data = forecast_report(books.household, today=today, months=3).as_dict()

    by_account = {row["account"]: [p["balance"] for p in row["projection"]] for row in data["accounts"]}
    assert data["months"] == ["2024-03", "2024-04", "2024-05"]
    assert by_account[books.checking.pk] == ["2900.00", "3900.00", "4900.00"]
    assert by_account[books.savings.pk] == ["100.00", "200.00", "300.00"]


def test_every_report_runs_a_fixed_number_of_queries(books: Books, django_assert_num_queries) -> None:
    def run_all() -> None:
        with django_assert_num_queries(1):  # one statement: entries, rates and totals in CTEs
            cashflow_report(books.household, JAN, MAR)
        with django_assert_num_queries(1):  # one statement, categories included
            spending_by_category(books.household, JAN, MAR)
        with django_assert_num_queries(1):  # one statement over the monthly account totals
            net_worth_report(books.household, JAN, MAR)
        with django_assert_num_queries(2):  # accounts with balances; due schedules
            forecast_report(books.household, today=MAR, months=12)

    run_all()
    usd = AccountFactory(household=books.household, name="US", currency="USD")
    for index in range(20):
        category = CategoryFactory(household=books.household, name=f"More {index}")
        for day in (3, 13, 23):
            TransactionFactory(account=books.checking, category=category, date=datetime.date(2024, 2, day))
            TransactionFactory(account=usd, category=category, date=datetime.date(2024, 1, day))
        scheduled_create(
            household=books.household, account=books.checking, amount="-1.00", recurrence="FREQ=WEEKLY", start_date=MAR
        )
    run_all()


def raw_sql(query: str, params: list) -> Decimal:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchone()[0] or D(0)


def test_report_totals_equal_an_independent_sql_computation(books: Books) -> None:
    """Seeded data (splits, transfers, refunds, a USD account with rates) against plain SQL sums."""
    household = books.household
    usd = AccountFactory(household=household, name="US", currency="USD", opening_date=datetime.date(2023, 1, 1))
    rate = D("1.25")
    ExchangeRateFactory(date=datetime.date(2023, 12, 1), base="EUR", quote="USD", rate=rate)
    expense = [books.groceries, books.restaurants, books.rent, books.food]
    rng = random.Random(20240301)
    for _ in range(150):
        day = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(91))
        account = usd if rng.random() < 0.2 else books.checking
        cents = rng.randrange(100, 20000)
        if rng.random() < 0.2:
            first = D(cents // 2) / 100
            second = D(cents - cents // 2) / 100
            tx(
                account,
                day.isoformat(),
                str(-(first + second)),
                splits=[
                    SplitLine(category=rng.choice(expense), amount=-first),
                    SplitLine(category=rng.choice(expense), amount=-second),
                ],
            )
        else:
            sign = 1 if rng.random() < 0.1 else -1  # some refunds
            tx(account, day.isoformat(), str(sign * D(cents) / 100), rng.choice(expense))
        if rng.random() < 0.1:
            transfer_create(from_account=books.checking, to_account=books.savings, date=day, amount="10.00")
    tx(books.checking, "2024-01-31", "3000.00", books.salary)

    spent_eur = raw_sql(
        # Each USD amount is converted and rounded to cents on its own before the sum (README "Rounding and totals").
        """SELECT -sum(CASE WHEN a.currency = 'USD' THEN round(x.amount / %s, 2) ELSE x.amount END) FROM (
               SELECT t.account_id, t.category_id, t.amount FROM ledger_transaction t
                WHERE t.household_id = %s AND t.transfer_id IS NULL
                  AND NOT EXISTS (SELECT 1 FROM ledger_split s WHERE s.transaction_id = t.id)
               UNION ALL
               SELECT t.account_id, s.category_id, s.amount FROM ledger_split s
                 JOIN ledger_transaction t ON t.id = s.transaction_id WHERE s.household_id = %s
           ) x JOIN ledger_account a ON a.id = x.account_id
           JOIN ledger_category c ON c.id = x.category_id WHERE c.kind = 'expense'""",
        [rate, household.pk, household.pk],
    )
    report = spending_by_category(household, JAN, MAR)
    cashflow = cashflow_report(household, JAN, MAR)

    assert report.total == spent_eur
    assert sum((m.expense for m in cashflow.months), D(0)) == spent_eur
    assert sum(m.income for m in cashflow.months) == D("3000.00")
