"""Cash flow, spending by category, net worth and forecast reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet

from budgets.models import ScheduledTransaction
from budgets.months import add_months, budget_month_range
from budgets.selectors.common import (
    MISSING_RATES_JSON,
    ZERO,
    MissingRate,
    base_places,
    convert_sql,
    entries_cte,
    fetch_json,
    missing_rates_from,
)
from budgets.selectors.scheduled import day_before, scheduled_occurrences
from financetracker.core.money import format_amount
from ledger.models import Account, Household
from ledger.selectors import accounts_with_balance

if TYPE_CHECKING:
    from ledger.selectors import AccountWithBalance

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
                    "income": format_amount(m.income, c),
                    "expense": format_amount(m.expense, c),
                    "net": format_amount(m.net, c),
                }
                for m in self.months
            ],
            "totals": {
                "income": format_amount(sum((m.income for m in self.months), ZERO), c),
                "expense": format_amount(sum((m.expense for m in self.months), ZERO), c),
                "net": format_amount(sum((m.net for m in self.months), ZERO), c),
            },
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def _range_params(household: Household, first: date, last: date) -> dict[str, Any]:
    return {
        "household": household.pk,
        "start_day": household.budget_month_start_day,
        "base": household.base_currency,
        "places": base_places(household.base_currency),
        "first": first,
        "last": last,
        "start": budget_month_range(household, first)[0],
        "end": budget_month_range(household, last)[1],
    }


def cashflow_report(household: Household, first_month: date, last_month: date) -> CashflowReport:
    """Income, expense and net per budget month (income categories, expense categories net of refunds;
    uncategorised amounts by their sign). One query."""
    sql = _CASHFLOW_SQL.format(
        entries=entries_cte(start_sql="%(start)s", end_sql="%(end)s"), missing=MISSING_RATES_JSON
    )
    data = fetch_json(sql, _range_params(household, first_month, last_month))
    return CashflowReport(
        currency=household.base_currency,
        months=[
            CashflowMonth(
                month=date.fromisoformat(row["month"]), income=Decimal(row["income"]), expense=Decimal(row["expense"])
            )
            for row in data["months"] or []
        ],
        missing_rates=missing_rates_from(data["missing_rates"]),
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
                "spent": format_amount(line.spent, c),
            }
            if line.parent_id is None:
                data["children"] = [line_dict(child) for child in line.children]
            return data

        return {
            "currency": c,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "categories": [line_dict(line) for line in sorted(self.categories, key=lambda x: (-x.spent, x.name))],
            "total": format_amount(self.total, c),
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def spending_by_category(household: Household, first_month: date, last_month: date) -> SpendingReport:
    """Spending per expense category over whole budget months, children rolled into parents. One query."""
    params = _range_params(household, first_month, last_month)
    sql = _SPENDING_SQL.format(
        entries=entries_cte(start_sql="%(start)s", end_sql="%(end)s"), missing=MISSING_RATES_JSON
    )
    data = fetch_json(sql, params)
    rows = data["categories"]
    children: dict[int, list[SpendingLine]] = {}
    for row in rows:
        if row["parent_id"] is not None:
            parent_id = int(row["parent_id"])
            child = SpendingLine(
                category_id=int(row["id"]),
                name=row["name"],
                parent_id=parent_id,
                spent=Decimal(row["spent"]),
            )
            children.setdefault(parent_id, []).append(child)
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
        missing_rates=missing_rates_from(data["missing_rates"]),
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
    SELECT b.*, budgets_exchange_rate_fraction(b.currency, %(base)s, b.month_end) AS fraction FROM balances b
)
SELECT json_build_object(
    'accounts', (SELECT coalesce(json_agg(json_build_object('id', id, 'name', name, 'currency', currency,
                                                            'kind', kind) ORDER BY name, id), '[]'::json)
                   FROM ledger_account WHERE household_id = %(household)s),
    'balances', (SELECT coalesce(json_agg(json_build_object('account', account_id, 'month', month,
                                                            'balance', balance,
                                                            'converted', round({convert}, %(places)s))
                                          ORDER BY month, account_id), '[]'::json) FROM converted),
    'missing_rates', (SELECT coalesce(json_agg(json_build_object('currency', currency, 'date', month_end,
                                                                 'amount', balance) ORDER BY month_end, currency),
                                      '[]'::json) FROM converted WHERE fraction IS NULL)
)::text
""".replace("{convert}", convert_sql("balance", "fraction"))


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
                            "balance": format_amount(balance, currencies[account_id]),
                            "converted": None if converted is None else format_amount(converted, self.currency),
                            "missing_rate": converted is None,
                        }
                        for account_id, (balance, converted) in self.balances[month].items()
                    ],
                    "total": format_amount(self.total(month), self.currency),
                }
                for month in self.months
            ],
            "missing_rates": [missing.as_dict() for missing in self.missing_rates],
        }


def net_worth_report(household: Household, first_month: date, last_month: date) -> NetWorthReport:
    """Balances at each calendar month's end (the ledger keeps calendar-month totals), per account and in
    total in the base currency at the month end's rate. One query."""
    data = fetch_json(
        _NET_WORTH_SQL,
        {
            "household": household.pk,
            "base": household.base_currency,
            "places": base_places(household.base_currency),
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
        missing_rates=missing_rates_from(data["missing_rates"]),
    )


# --- Forecast -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForecastReport:
    today: date
    months: list[date]  # calendar months; a balance is the projection at the month's end
    accounts: list[AccountWithBalance]  # with their balance now
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
                    "balance": format_amount(account.balance, account.currency),
                    "projection": [
                        {
                            "month": f"{month:%Y-%m}",
                            "end": (add_months(month, 1) - timedelta(days=1)).isoformat(),
                            "balance": format_amount(value, account.currency),
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
    accounts: list[AccountWithBalance] = list(
        accounts_with_balance(Account.objects.filter(household=household, archived=False)).order_by("name", "id")
    )
    month_list = [add_months(today.replace(day=1), offset) for offset in range(months)]
    horizon = add_months(month_list[-1], 1) - timedelta(days=1)
    templates: QuerySet[ScheduledTransaction] = ScheduledTransaction.objects.filter(
        household=household, active=True, next_due__isnull=False, next_due__lte=horizon
    )
    deltas: dict[tuple[int, date], Decimal] = {}
    for template in templates:
        for day in scheduled_occurrences(template, after=day_before(template.next_due), until=horizon):
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
        running: Decimal = account.balance
        values = []
        for month in month_list:
            running += deltas.get((account.pk, month), ZERO)
            values.append(running)
        projections[account.pk] = values
    return ForecastReport(today=today, months=month_list, accounts=accounts, projections=projections)
