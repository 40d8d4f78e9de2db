"""Reads and reports. Every aggregate runs in PostgreSQL; a report is a fixed number of queries whatever
the number of categories, transactions, months or rates involved.

Shared rules of every report:
- spending is what left the books in expense categories: split lines count under their own category,
  transfers never count, refunds (positive amounts in an expense category) reduce spending;
- amounts in another currency are converted into the household's base currency at the rate of the
  transaction's date (latest on or before it, see `budgets.models`); an amount without a rate is left out
  of every figure AND listed under `missing_rates` (currency, date, amount), never treated as zero.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from budgets.models import ScheduledTransaction, recurrence_rule
from budgets.months import add_months, budget_month_range, label_month_sql, month_start_sql
from ledger.models import Account, Household
from ledger.money import quantize
from ledger.selectors import accounts_with_balance

ZERO = Decimal(0)
NEAR_LIMIT_PERCENT = Decimal(90)


def _fetch_json(sql: str, params: dict[str, Any]) -> Any:
    """Run one statement that returns one JSON document; numbers come back as exact Decimals."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (text,) = cursor.fetchone()
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def _entries_cte(*, start_sql: str, end_sql: str) -> str:
    """CTEs `entries` (one row per categorised amount: a split line, or a whole unsplit transaction),
    `rates` (one lookup per distinct foreign currency and day) and `converted` (base-currency amounts with
    the budget month label and a missing-rate flag). Transfers are excluded here, once, for every report."""
    label = label_month_sql("e.date", "%(start_day)s")
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    return f"""
entries AS (
    SELECT t.date, coalesce(s.category_id, t.category_id) AS category_id,
           coalesce(s.amount, t.amount) AS amount, a.currency
      FROM ledger_transaction t
      JOIN ledger_account a ON a.household_id = t.household_id AND a.id = t.account_id
      LEFT JOIN ledger_split s ON s.household_id = t.household_id AND s.transaction_id = t.id
     WHERE t.household_id = %(household)s AND t.transfer_id IS NULL
       AND t.date >= {start_sql} AND t.date <= {end_sql}
),
rates AS (
    SELECT needed.currency, needed.date, budgets_exchange_rate(needed.currency, %(base)s, needed.date) AS rate
      FROM (SELECT DISTINCT currency, date FROM entries WHERE currency <> %(base)s) AS needed
),
converted AS (
    SELECT e.category_id, c.kind, e.date, e.currency, e.amount, {label} AS month,
           CASE WHEN e.currency = %(base)s THEN e.amount ELSE e.amount * r.rate END AS amount_base,
           (e.currency <> %(base)s AND r.rate IS NULL) AS missing
      FROM entries e
      LEFT JOIN ledger_category c ON c.household_id = %(household)s AND c.id = e.category_id
      LEFT JOIN rates r ON r.currency = e.currency AND r.date = e.date
)"""  # noqa: S608


_MISSING_RATES_JSON = """
(SELECT coalesce(json_agg(json_build_object('currency', currency, 'date', date, 'amount', amount)
                          ORDER BY date, currency), '[]'::json)
   FROM (SELECT currency, date, sum(amount) AS amount FROM converted WHERE missing GROUP BY currency, date) AS m)
"""


@dataclass(frozen=True)
class MissingRate:
    currency: str
    date: date
    amount: Decimal  # in `currency`, left out of the figures

    def as_dict(self) -> dict[str, str]:
        return {"currency": self.currency, "date": self.date.isoformat(), "amount": f"{self.amount:f}"}


def _missing_rates(rows: list[dict[str, Any]]) -> list[MissingRate]:
    return [
        MissingRate(currency=row["currency"], date=date.fromisoformat(row["date"]), amount=Decimal(row["amount"]))
        for row in rows
    ]


def _money(amount: Decimal, currency: str) -> str:
    return f"{quantize(amount, currency):f}"


# --- Budget report ------------------------------------------------------------------------------------

_BUDGET_REPORT_SQL = """
WITH
lines AS (
    SELECT category_id, month, amount, rollover FROM budgets_budget
     WHERE household_id = %(household)s AND month <= %(month)s
),
-- Rollover chain: the run of consecutive months with rollover lines that ends the month before the report.
-- Gaps and islands: month index minus row number is constant along a run of consecutive months.
rollover_lines AS (
    SELECT category_id, month,
           (extract(year FROM month) * 12 + extract(month FROM month))::int
           - row_number() OVER (PARTITION BY category_id ORDER BY month) AS island
      FROM lines WHERE rollover AND month < %(month)s
),
runs AS (
    SELECT r.category_id, min(r.month) AS first_month
      FROM rollover_lines r
      JOIN rollover_lines last ON last.category_id = r.category_id AND last.month = %(previous_month)s
                              AND last.island = r.island
     GROUP BY r.category_id
),
first_month AS (SELECT least(%(month)s::date, (SELECT min(first_month) FROM runs)) AS month),
{entries},
monthly AS (
    SELECT category_id, month,
           coalesce(sum(amount_base) FILTER (WHERE NOT missing), 0) AS total,
           count(*) FILTER (WHERE missing) AS missing_count
      FROM converted GROUP BY category_id, month
),
-- carried over = what the run's months left: sum of (budgeted - spent), spent being minus the total.
carry AS (
    SELECT runs.category_id, sum(l.amount + coalesce(m.total, 0)) AS carried,
           sum(coalesce(m.missing_count, 0)) AS missing_count
      FROM runs
      JOIN lines l ON l.category_id = runs.category_id AND l.month >= runs.first_month AND l.month < %(month)s
      LEFT JOIN monthly m ON m.category_id = l.category_id AND m.month = l.month
     GROUP BY runs.category_id
)
SELECT json_build_object(
    'categories', (
        SELECT coalesce(json_agg(json_build_object(
                   'id', c.id, 'name', c.name, 'parent_id', c.parent_id, 'kind', c.kind, 'archived', c.archived,
                   'has_line', l.category_id IS NOT NULL, 'budgeted', coalesce(l.amount, 0),
                   'rollover', coalesce(l.rollover, false), 'total', coalesce(cur.total, 0),
                   'carried', coalesce(k.carried, 0),
                   'missing', coalesce(cur.missing_count, 0) + coalesce(k.missing_count, 0)
               ) ORDER BY c.name, c.id), '[]'::json)
          FROM ledger_category c
          LEFT JOIN lines l ON l.category_id = c.id AND l.month = %(month)s
          LEFT JOIN monthly cur ON cur.category_id = c.id AND cur.month = %(month)s
          LEFT JOIN carry k ON k.category_id = c.id
         WHERE c.household_id = %(household)s
    ),
    'uncategorized', (SELECT coalesce(sum(total), 0) FROM monthly WHERE category_id IS NULL AND month = %(month)s),
    'missing_rates', {missing}
)::text
"""


@dataclass
class BudgetCategoryLine:
    category_id: int
    name: str
    parent_id: int | None
    kind: str
    budgeted: Decimal = ZERO
    spent: Decimal = ZERO
    carried_over: Decimal = ZERO
    rollover: bool = False
    missing_rate: bool = False
    children: list[BudgetCategoryLine] = field(default_factory=list)

    @property
    def available(self) -> Decimal:
        return self.budgeted + self.carried_over - self.spent

    @property
    def percent_used(self) -> Decimal | None:
        funds = self.budgeted + self.carried_over
        if funds <= 0:
            return None
        return (self.spent * 100 / funds).quantize(Decimal("0.1"))

    @property
    def over_budget(self) -> bool:
        return self.available < 0

    @property
    def near_limit(self) -> bool:
        percent = self.percent_used
        return not self.over_budget and percent is not None and percent >= NEAR_LIMIT_PERCENT

    def as_dict(self, currency: str) -> dict[str, Any]:
        percent = self.percent_used
        data: dict[str, Any] = {
            "category": self.category_id,
            "name": self.name,
            "parent": self.parent_id,
            "budgeted": _money(self.budgeted, currency),
            "spent": _money(self.spent, currency),
            "carried_over": _money(self.carried_over, currency),
            "available": _money(self.available, currency),
            "percent_used": None if percent is None else f"{percent:f}",
            "rollover": self.rollover,
            "over_budget": self.over_budget,
            "near_limit": self.near_limit,
            "missing_rate": self.missing_rate,
        }
        if self.parent_id is None:
            data["children"] = [child.as_dict(currency) for child in self.children]
        return data


@dataclass
class BudgetReport:
    household_id: int
    month: date
    start: date
    end: date
    currency: str
    categories: list[BudgetCategoryLine]  # top-level expense categories, children rolled up into them
    income: Decimal
    income_categories: list[BudgetCategoryLine]
    uncategorized: Decimal
    missing_rates: list[MissingRate]

    @property
    def budgeted(self) -> Decimal:
        return sum((line.budgeted for line in self.categories), ZERO)

    @property
    def spent(self) -> Decimal:
        return sum((line.spent for line in self.categories), ZERO)

    @property
    def carried_over(self) -> Decimal:
        return sum((line.carried_over for line in self.categories), ZERO)

    @property
    def available(self) -> Decimal:
        return sum((line.available for line in self.categories), ZERO)

    @property
    def left_to_budget(self) -> Decimal:
        """This month's income not yet given to a category."""
        return self.income - self.budgeted

    def line(self, category_id: int) -> BudgetCategoryLine:
        for line in self.categories:
            if line.category_id == category_id:
                return line
            for child in line.children:
                if child.category_id == category_id:
                    return child
        raise KeyError(category_id)

    def as_dict(self) -> dict[str, Any]:
        currency = self.currency
        return {
            "household": self.household_id,
            "month": f"{self.month:%Y-%m}",
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "currency": currency,
            "categories": [line.as_dict(currency) for line in self.categories],
            "income_categories": [
                {
                    "category": line.category_id,
                    "name": line.name,
                    "parent": line.parent_id,
                    "received": _money(-line.spent, currency),
                }
                for line in self.income_categories
            ],
            "totals": {
                "budgeted": _money(self.budgeted, currency),
                "spent": _money(self.spent, currency),
                "carried_over": _money(self.carried_over, currency),
                "available": _money(self.available, currency),
                "income": _money(self.income, currency),
                "left_to_budget": _money(self.left_to_budget, currency),
                "uncategorized": _money(self.uncategorized, currency),
            },
            "over_budget": [line.category_id for line in self._all_lines() if line.over_budget],
            "near_limit": [line.category_id for line in self._all_lines() if line.near_limit],
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }

    def _all_lines(self) -> Iterator[BudgetCategoryLine]:
        for line in self.categories:
            yield line
            yield from line.children


def _roll_up(lines: dict[int, BudgetCategoryLine]) -> list[BudgetCategoryLine]:
    """Top-level lines whose figures include their children's; children stay listed under them."""
    parents: list[BudgetCategoryLine] = []
    for line in lines.values():
        if line.parent_id is None:
            parents.append(line)
    for line in lines.values():
        if line.parent_id is not None and line.parent_id in lines:
            lines[line.parent_id].children.append(line)
    rolled: list[BudgetCategoryLine] = []
    for parent in parents:
        total = BudgetCategoryLine(
            category_id=parent.category_id,
            name=parent.name,
            parent_id=None,
            kind=parent.kind,
            budgeted=parent.budgeted + sum((c.budgeted for c in parent.children), ZERO),
            spent=parent.spent + sum((c.spent for c in parent.children), ZERO),
            carried_over=parent.carried_over + sum((c.carried_over for c in parent.children), ZERO),
            rollover=parent.rollover,
            missing_rate=parent.missing_rate or any(c.missing_rate for c in parent.children),
            children=parent.children,
        )
        rolled.append(total)
    return rolled


def budget_report_for_month(household: Household, month: date) -> BudgetReport:
    """The budget report of one budget month, in ONE query (rollover chains and rates included)."""
    month = month.replace(day=1)
    start, end = budget_month_range(household, month)
    first = month_start_sql("(SELECT month FROM first_month)", "%(start_day)s")
    sql = _BUDGET_REPORT_SQL.format(
        entries=_entries_cte(start_sql=first, end_sql="%(end)s"), missing=_MISSING_RATES_JSON
    )
    data = _fetch_json(
        sql,
        {
            "household": household.pk,
            "start_day": household.budget_month_start_day,
            "base": household.base_currency,
            "month": month,
            "previous_month": add_months(month, -1),
            "end": end,
        },
    )
    expense: dict[int, BudgetCategoryLine] = {}
    income: dict[int, BudgetCategoryLine] = {}
    for row in data["categories"]:
        line = BudgetCategoryLine(
            category_id=int(row["id"]),
            name=row["name"],
            parent_id=None if row["parent_id"] is None else int(row["parent_id"]),
            kind=row["kind"],
            budgeted=Decimal(row["budgeted"]),
            spent=-Decimal(row["total"]),
            carried_over=Decimal(row["carried"]),
            rollover=row["rollover"],
            missing_rate=row["missing"] > 0,
        )
        shown = not row["archived"] or row["has_line"] or line.spent != 0 or line.carried_over != 0
        if not shown:
            continue
        (income if line.kind == "income" else expense)[line.category_id] = line
    income_lines = _roll_up(income)
    return BudgetReport(
        household_id=household.pk,
        month=month,
        start=start,
        end=end,
        currency=household.base_currency,
        categories=_roll_up(expense),
        income=-sum((line.spent for line in income_lines), ZERO),
        income_categories=income_lines,
        uncategorized=Decimal(data["uncategorized"]),
        missing_rates=_missing_rates(data["missing_rates"]),
    )


# --- Cash flow and spending -----------------------------------------------------------------------------

_CASHFLOW_SQL = """
WITH {entries},
kept AS (SELECT * FROM converted WHERE NOT missing),
by_month AS (
    SELECT month,
           coalesce(sum(amount_base) FILTER (WHERE kind = 'income' OR (kind IS NULL AND amount > 0)), 0) AS income,
           coalesce(-sum(amount_base) FILTER (WHERE kind = 'expense' OR (kind IS NULL AND amount < 0)), 0) AS expense
      FROM kept GROUP BY month
)
SELECT json_build_object(
    'months', (
        SELECT json_agg(json_build_object('month', m.month::date, 'income', coalesce(b.income, 0),
                                          'expense', coalesce(b.expense, 0)) ORDER BY m.month)
          FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m(month)
          LEFT JOIN by_month b ON b.month = m.month::date
    ),
    'missing_rates', {missing}
)::text
"""


@dataclass(frozen=True)
class CashflowMonth:
    month: date
    income: Decimal
    expense: Decimal

    @property
    def net(self) -> Decimal:
        return self.income - self.expense


@dataclass(frozen=True)
class CashflowReport:
    currency: str
    months: list[CashflowMonth]
    missing_rates: list[MissingRate]

    def as_dict(self) -> dict[str, Any]:
        c = self.currency
        return {
            "currency": c,
            "months": [
                {
                    "month": f"{m.month:%Y-%m}",
                    "income": _money(m.income, c),
                    "expense": _money(m.expense, c),
                    "net": _money(m.net, c),
                }
                for m in self.months
            ],
            "totals": {
                "income": _money(sum((m.income for m in self.months), ZERO), c),
                "expense": _money(sum((m.expense for m in self.months), ZERO), c),
                "net": _money(sum((m.net for m in self.months), ZERO), c),
            },
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def _range_params(household: Household, first: date, last: date) -> dict[str, Any]:
    return {
        "household": household.pk,
        "start_day": household.budget_month_start_day,
        "base": household.base_currency,
        "first": first,
        "last": last,
        "start": budget_month_range(household, first)[0],
        "end": budget_month_range(household, last)[1],
    }


def cashflow_report(household: Household, first_month: date, last_month: date) -> CashflowReport:
    """Income, expense and net per budget month (income categories, expense categories net of refunds;
    uncategorised amounts by their sign). One query."""
    sql = _CASHFLOW_SQL.format(
        entries=_entries_cte(start_sql="%(start)s", end_sql="%(end)s"), missing=_MISSING_RATES_JSON
    )
    data = _fetch_json(sql, _range_params(household, first_month, last_month))
    return CashflowReport(
        currency=household.base_currency,
        months=[
            CashflowMonth(
                month=date.fromisoformat(row["month"]), income=Decimal(row["income"]), expense=Decimal(row["expense"])
            )
            for row in data["months"] or []
        ],
        missing_rates=_missing_rates(data["missing_rates"]),
    )


_SPENDING_SQL = """
WITH {entries},
by_category AS (
    SELECT category_id, -sum(amount_base) AS spent FROM converted
     WHERE NOT missing AND kind = 'expense' GROUP BY category_id
)
SELECT json_build_object(
    'categories', (
        SELECT coalesce(json_agg(json_build_object('id', c.id, 'name', c.name, 'parent_id', c.parent_id,
                                                   'spent', coalesce(b.spent, 0)) ORDER BY c.name, c.id), '[]'::json)
          FROM ledger_category c LEFT JOIN by_category b ON b.category_id = c.id
         WHERE c.household_id = %(household)s AND c.kind = 'expense' AND (NOT c.archived OR b.spent IS NOT NULL)
    ),
    'missing_rates', {missing}
)::text
"""


@dataclass(frozen=True)
class SpendingLine:
    category_id: int
    name: str
    parent_id: int | None
    spent: Decimal  # own spending plus, for a top-level category, its children's
    children: tuple[SpendingLine, ...] = ()


@dataclass(frozen=True)
class SpendingReport:
    currency: str
    start: date
    end: date
    categories: list[SpendingLine]
    missing_rates: list[MissingRate]

    @property
    def total(self) -> Decimal:
        return sum((line.spent for line in self.categories), ZERO)

    def as_dict(self) -> dict[str, Any]:
        c = self.currency

        def line_dict(line: SpendingLine) -> dict[str, Any]:
            data: dict[str, Any] = {
                "category": line.category_id,
                "name": line.name,
                "parent": line.parent_id,
                "spent": _money(line.spent, c),
            }
            if line.parent_id is None:
                data["children"] = [line_dict(child) for child in line.children]
            return data

        return {
            "currency": c,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "categories": [line_dict(line) for line in sorted(self.categories, key=lambda x: (-x.spent, x.name))],
            "total": _money(self.total, c),
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def spending_by_category(household: Household, first_month: date, last_month: date) -> SpendingReport:
    """Spending per expense category over whole budget months, children rolled into parents. One query."""
    params = _range_params(household, first_month, last_month)
    sql = _SPENDING_SQL.format(
        entries=_entries_cte(start_sql="%(start)s", end_sql="%(end)s"), missing=_MISSING_RATES_JSON
    )
    data = _fetch_json(sql, params)
    rows = data["categories"]
    children: dict[int, list[SpendingLine]] = {}
    for row in rows:
        if row["parent_id"] is not None:
            child = SpendingLine(
                category_id=int(row["id"]),
                name=row["name"],
                parent_id=int(row["parent_id"]),
                spent=Decimal(row["spent"]),
            )
            children.setdefault(child.parent_id, []).append(child)  # type: ignore[arg-type]
    lines = [
        SpendingLine(
            category_id=int(row["id"]),
            name=row["name"],
            parent_id=None,
            spent=Decimal(row["spent"]) + sum((c.spent for c in children.get(int(row["id"]), [])), ZERO),
            children=tuple(children.get(int(row["id"]), [])),
        )
        for row in rows
        if row["parent_id"] is None
    ]
    return SpendingReport(
        currency=household.base_currency,
        start=params["start"],
        end=params["end"],
        categories=lines,
        missing_rates=_missing_rates(data["missing_rates"]),
    )


# --- Net worth ------------------------------------------------------------------------------------------

_NET_WORTH_SQL = """
WITH
months AS (
    SELECT m::date AS month, (m + interval '1 month' - interval '1 day')::date AS month_end
      FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m
),
balances AS (
    -- Opening balance plus the monthly totals up to the month: at most 12 rows a year per account.
    SELECT a.id AS account_id, a.currency, mo.month, mo.month_end,
           CASE WHEN a.opening_date <= mo.month_end THEN a.opening_balance ELSE 0 END
           + coalesce((SELECT sum(t.total) FROM ledger_accountmonthtotal t
                        WHERE t.household_id = a.household_id AND t.account_id = a.id AND t.month <= mo.month), 0)
           AS balance
      FROM ledger_account a CROSS JOIN months mo
     WHERE a.household_id = %(household)s
),
converted AS (
    SELECT b.*, budgets_exchange_rate(b.currency, %(base)s, b.month_end) AS rate FROM balances b
)
SELECT json_build_object(
    'accounts', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'currency', currency,
                                                            'kind', kind) ORDER BY name, id), '[]'::json)
                   FROM ledger_account WHERE household_id = %(household)s),
    'balances', (SELECT coalesce(json_agg(json_build_object('account', account_id, 'month', month,
                                                            'balance', balance, 'converted', balance * rate)
                                          ORDER BY month, account_id), '[]'::json) FROM converted),
    'missing_rates', (SELECT coalesce(json_agg(json_build_object('currency', currency, 'date', month_end,
                                                                 'amount', balance) ORDER BY month_end, currency),
                                      '[]'::json) FROM converted WHERE rate IS NULL)
)::text
"""


@dataclass(frozen=True)
class NetWorthReport:
    currency: str
    accounts: list[dict[str, Any]]
    months: list[date]
    # {month: {account_id: (balance in the account's currency, balance in base or None without a rate)}}
    balances: dict[date, dict[int, tuple[Decimal, Decimal | None]]]
    missing_rates: list[MissingRate]

    def total(self, month: date) -> Decimal:
        return sum((converted for _b, converted in self.balances[month].values() if converted is not None), ZERO)

    def as_dict(self) -> dict[str, Any]:
        currencies = {account["id"]: account["currency"] for account in self.accounts}
        return {
            "currency": self.currency,
            "accounts": [
                {"id": a["id"], "name": a["name"], "currency": a["currency"], "kind": a["kind"]} for a in self.accounts
            ],
            "months": [
                {
                    "month": f"{month:%Y-%m}",
                    "end": (add_months(month, 1) - timedelta(days=1)).isoformat(),
                    "accounts": [
                        {
                            "account": account_id,
                            "balance": _money(balance, currencies[account_id]),
                            "converted": None if converted is None else _money(converted, self.currency),
                            "missing_rate": converted is None,
                        }
                        for account_id, (balance, converted) in self.balances[month].items()
                    ],
                    "total": _money(self.total(month), self.currency),
                }
                for month in self.months
            ],
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def net_worth_report(household: Household, first_month: date, last_month: date) -> NetWorthReport:
    """Balances at each calendar month's end (the ledger keeps calendar-month totals), per account and in
    total in the base currency at the month end's rate. One query."""
    data = _fetch_json(
        _NET_WORTH_SQL,
        {
            "household": household.pk,
            "base": household.base_currency,
            "first": first_month.replace(day=1),
            "last": last_month.replace(day=1),
        },
    )
    months: list[date] = []
    current = first_month.replace(day=1)
    while current <= last_month:
        months.append(current)
        current = add_months(current, 1)
    balances: dict[date, dict[int, tuple[Decimal, Decimal | None]]] = {month: {} for month in months}
    for row in data["balances"]:
        converted = row["converted"]
        balances[date.fromisoformat(row["month"])][int(row["account"])] = (
            Decimal(row["balance"]),
            None if converted is None else Decimal(converted),
        )
    accounts = [{**account, "id": int(account["id"])} for account in data["accounts"]]
    return NetWorthReport(
        currency=household.base_currency,
        accounts=accounts,
        months=months,
        balances=balances,
        missing_rates=_missing_rates(data["missing_rates"]),
    )


# --- Scheduled transactions -------------------------------------------------------------------------------


def scheduled_occurrences(scheduled: ScheduledTransaction, *, after: date | None = None, until: date) -> Iterator[date]:
    """The schedule's dates in (after, until], honouring its end date and occurrence count."""
    rule = recurrence_rule(scheduled.recurrence, scheduled.start_date)
    dates: Iterator[date] = (moment.date() for moment in rule)
    if scheduled.occurrence_count is not None:
        dates = islice(dates, scheduled.occurrence_count)
    for day in dates:
        if day > until or (scheduled.end_date is not None and day > scheduled.end_date):
            return
        if after is None or day > after:
            yield day


def scheduled_next_due(scheduled: ScheduledTransaction, *, after: date | None) -> date | None:
    """The first occurrence strictly after `after` (or the first of all), None once the schedule has ended."""
    limit = scheduled.end_date or date.max
    return next(scheduled_occurrences(scheduled, after=after, until=limit), None)


def _day_before(day: date | None) -> date | None:
    return None if day is None else day - timedelta(days=1)


@dataclass(frozen=True)
class UpcomingOccurrence:
    scheduled: ScheduledTransaction
    date: date
    overdue: bool


def scheduled_upcoming(household: Household, *, today: date, days: int) -> list[UpcomingOccurrence]:
    """Every occurrence due up to `today + days` (overdue ones included), in date order. One query."""
    until = today + timedelta(days=days)
    templates = (
        ScheduledTransaction.objects.filter(
            household=household, active=True, next_due__isnull=False, next_due__lte=until
        )
        .select_related("account", "to_account", "category")
        .order_by("next_due", "id")
    )
    upcoming = [
        UpcomingOccurrence(scheduled=template, date=day, overdue=day < today)
        for template in templates
        for day in scheduled_occurrences(template, after=_day_before(template.next_due), until=until)
    ]
    return sorted(upcoming, key=lambda item: (item.date, item.scheduled.pk))


# --- Forecast -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastReport:
    today: date
    months: list[date]  # calendar months; a balance is the projection at the month's end
    accounts: list[Account]  # annotated with `balance` (now)
    projections: dict[int, list[Decimal]]  # account id → balance at the end of each month

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "months": [f"{month:%Y-%m}" for month in self.months],
            "accounts": [
                {
                    "account": account.pk,
                    "name": account.name,
                    "currency": account.currency,
                    "balance": _money(account.balance, account.currency),  # type: ignore[attr-defined]
                    "projection": [
                        {
                            "month": f"{month:%Y-%m}",
                            "end": (add_months(month, 1) - timedelta(days=1)).isoformat(),
                            "balance": _money(value, account.currency),
                        }
                        for month, value in zip(self.months, self.projections[account.pk], strict=True)
                    ],
                }
                for account in self.accounts
            ],
        }


def forecast_report(household: Household, *, today: date, months: int) -> ForecastReport:
    """Each open account's balance projected to the end of this and the next `months - 1` calendar months,
    from its current balance plus its scheduled transactions (and scheduled transfers in). Two queries."""
    accounts: list[Account] = list(
        accounts_with_balance(Account.objects.filter(household=household, archived=False)).order_by("name", "id")
    )
    month_list = [add_months(today.replace(day=1), offset) for offset in range(months)]
    horizon = add_months(month_list[-1], 1) - timedelta(days=1)
    templates: QuerySet[ScheduledTransaction] = ScheduledTransaction.objects.filter(
        household=household, active=True, next_due__isnull=False, next_due__lte=horizon
    )
    deltas: dict[tuple[int, date], Decimal] = {}
    for template in templates:
        for day in scheduled_occurrences(template, after=_day_before(template.next_due), until=horizon):
            month = max(day.replace(day=1), month_list[0])
            key = (template.account_id, month)
            if template.to_account_id is None:
                deltas[key] = deltas.get(key, ZERO) + template.amount
            else:
                deltas[key] = deltas.get(key, ZERO) - template.amount
                incoming = (template.to_account_id, month)
                received = template.to_amount if template.to_amount is not None else template.amount
                deltas[incoming] = deltas.get(incoming, ZERO) + received
    projections: dict[int, list[Decimal]] = {}
    for account in accounts:
        running: Decimal = account.balance  # type: ignore[attr-defined]
        values = []
        for month in month_list:
            running += deltas.get((account.pk, month), ZERO)
            values.append(running)
        projections[account.pk] = values
    return ForecastReport(today=today, months=month_list, accounts=accounts, projections=projections)


def exchange_rate_on(from_currency: str, to_currency: str, on_date: date) -> Decimal | None:
    """The rate converting 1 `from_currency` into `to_currency` on a day (see `budgets.models`); None if unknown."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT budgets_exchange_rate(%s, %s, %s)", [from_currency, to_currency, on_date])
        (rate,) = cursor.fetchone()
    return rate
