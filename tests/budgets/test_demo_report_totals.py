"""On the full demo books, the reports' totals equal an independent plain-SQL computation.

The SQL below is written from the rules in `budgets.selectors.common`, not from the selectors' queries:
- an amount counts under its split line's category where the transaction is split, else under the
  transaction's own category; transfers never count;
- spending is minus the sum of amounts in expense categories (a refund, a positive amount, reduces it);
  income is the sum of amounts in income categories; uncategorised amounts count by their sign in cash flow;
- a USD amount becomes EUR at the latest EUR→USD rate on or before its day (amount / rate).
The demo household's budget month starts on day 1, so a budget month is the calendar month.
"""

from __future__ import annotations

import datetime
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from budgets.models import ExchangeRate
from budgets.months import add_months, budget_month_of
from budgets.selectors import budget_report_for_month, cashflow_report, spending_by_category
from financetracker.core.money import quantize
from ledger.demo import DEMO_HOUSEHOLD_NAME
from ledger.models import Household

# Late in June: the month's salary (25th) and interest (28th) are booked; April has USD freelance income.
TODAY = datetime.date(2025, 6, 28)
CENT = Decimal("0.01")

# One row per counted amount, in EUR: (day, category id or NULL, top-level category id, kind, amount).
ENTRIES_SQL = """
WITH own AS (  -- unsplit transactions, outside transfers
    SELECT t.date, t.category_id, t.amount, a.currency
      FROM ledger_transaction t JOIN ledger_account a ON a.id = t.account_id
     WHERE t.household_id = %(household)s AND t.transfer_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM ledger_split s WHERE s.transaction_id = t.id)
), split_lines AS (  -- the lines of split transactions, each under its own category
    SELECT t.date, s.category_id, s.amount, a.currency
      FROM ledger_split s
      JOIN ledger_transaction t ON t.id = s.transaction_id
      JOIN ledger_account a ON a.id = t.account_id
     WHERE t.household_id = %(household)s AND t.transfer_id IS NULL
), lines AS (SELECT * FROM own UNION ALL SELECT * FROM split_lines)
SELECT l.date, l.category_id, coalesce(c.parent_id, c.id) AS top_id, c.kind,
       CASE WHEN l.currency = 'EUR' THEN l.amount
            ELSE l.amount / (SELECT r.rate FROM budgets_exchangerate r
                              WHERE r.base = 'EUR' AND r.quote = l.currency AND r.date <= l.date
                              ORDER BY r.date DESC LIMIT 1)
       END AS amount_eur
  FROM lines l LEFT JOIN ledger_category c ON c.id = l.category_id
 WHERE l.date BETWEEN %(first)s AND %(last)s
"""


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT)


def independent_entries(household: Household, first: datetime.date, last: datetime.date) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(ENTRIES_SQL, {"household": household.pk, "first": first, "last": last})
        rows = cursor.fetchall()
    assert all(amount is not None for *_rest, amount in rows), "a foreign amount without a rate"
    return rows


def month_end(month: datetime.date) -> datetime.date:
    return add_months(month, 1) - datetime.timedelta(days=1)


# transactional_db: the demo's deferred split-sum and transfer-pair checks run at commit, as in production.
@pytest.mark.usefixtures("transactional_db")
def test_report_totals_on_the_demo_books_equal_plain_sql() -> None:
    call_command("seed_demo", "--today", TODAY.isoformat(), stdout=io.StringIO())
    household = Household.objects.get(name=DEMO_HOUSEHOLD_NAME)
    assert (household.base_currency, household.budget_month_start_day) == ("EUR", 1)
    # Only EUR-based rates exist, so "latest EUR→USD on or before the day" is the whole conversion rule.
    assert not ExchangeRate.objects.exclude(base="EUR").exists()
    month = budget_month_of(household, TODAY)
    first_month = add_months(month, -2)

    # --- The budget report of the current month --------------------------------------------------------
    rows = independent_entries(household, month, month_end(month))
    spent_by_top: dict[int, Decimal] = defaultdict(Decimal)
    income = Decimal(0)
    for _day, _category, top_id, kind, amount in rows:
        if kind == "expense":
            spent_by_top[top_id] -= amount
        elif kind == "income":
            income += amount
    report = budget_report_for_month(household, month)

    assert report.missing_rates == []
    assert set(spent_by_top) <= {line.category_id for line in report.categories}
    assert {line.category_id: cents(line.spent) for line in report.categories} == {
        line.category_id: cents(spent_by_top.get(line.category_id, Decimal(0))) for line in report.categories
    }
    assert cents(report.spent) == cents(sum(spent_by_top.values(), Decimal(0)))
    assert cents(report.income) == cents(income)
    totals = report.as_dict()["totals"]
    assert (Decimal(totals["spent"]), Decimal(totals["income"])) == (
        cents(sum(spent_by_top.values(), Decimal(0))),
        cents(income),
    )
    # A real month of demo books, not a vacuous zero = zero.
    assert cents(report.spent) > Decimal("1500") and cents(income) > Decimal("4000")

    # --- Cash flow and spending over the last three months ----------------------------------------------
    rows = independent_entries(household, first_month, month_end(month))
    assert any(kind == "expense" for *_rest, kind, _amount in rows)
    flow: dict[datetime.date, dict[str, Decimal]] = {
        add_months(first_month, i): {"income": Decimal(0), "expense": Decimal(0)} for i in range(3)
    }
    spending: dict[int, Decimal] = defaultdict(Decimal)
    for day, category, top_id, kind, amount in rows:
        bucket = flow[day.replace(day=1)]
        if kind == "income" or (category is None and amount > 0):
            bucket["income"] += amount
        elif kind == "expense" or (category is None and amount < 0):
            bucket["expense"] -= amount
        if kind == "expense":
            spending[top_id] -= amount

    cashflow = cashflow_report(household, first_month, month)
    assert cashflow.missing_rates == []
    assert [(m.month, cents(m.income), cents(m.expense)) for m in cashflow.months] == [
        (key, cents(value["income"]), cents(value["expense"])) for key, value in sorted(flow.items())
    ]
    cashflow_totals = cashflow.as_dict()["totals"]
    assert Decimal(cashflow_totals["expense"]) == cents(sum((v["expense"] for v in flow.values()), Decimal(0)))
    assert Decimal(cashflow_totals["income"]) == cents(sum((v["income"] for v in flow.values()), Decimal(0)))

    report_spending = spending_by_category(household, first_month, month)
    assert report_spending.missing_rates == []
    assert {line.category_id: cents(line.spent) for line in report_spending.categories if line.spent != 0} == {
        top_id: cents(spent) for top_id, spent in spending.items() if spent != 0
    }
    assert Decimal(report_spending.as_dict()["total"]) == cents(sum(spending.values(), Decimal(0)))
    # The range really converts USD: some of its spending was booked on the US account.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM ledger_transaction t JOIN ledger_account a ON a.id = t.account_id "
            "WHERE t.household_id = %s AND a.currency = 'USD' AND t.transfer_id IS NULL AND t.date >= %s",
            [household.pk, first_month],
        )
        (usd_rows,) = cursor.fetchone()
    assert usd_rows > 0
    assert quantize(report_spending.total, "EUR") == cents(sum(spending.values(), Decimal(0)))
