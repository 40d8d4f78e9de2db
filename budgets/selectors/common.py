"""Shared pieces of the report queries: the converted-entries CTE, missing rates, JSON results.

Shared rules of every report:
- spending is what left the books in expense categories: split lines count under their own category,
  transfers never count, refunds (positive amounts in an expense category) reduce spending;
- amounts in another currency are converted into the household's base currency at the rate of the
  transaction's date (latest on or before it, see `budgets.models`); an amount without a rate is left out
  of every figure AND listed under `missing_rates` (currency, date, amount), never treated as zero;
- each converted amount (a transaction, or one split line) is rounded to the base currency's places with
  `financetracker.core.money.ROUNDING` (PostgreSQL's round(): halves away from zero) BEFORE anything is summed, so every
  month, category and total is a sum of rounded parts and every total shown equals the sum of its parts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection

from budgets.months import label_month_sql
from financetracker.core.money import currency_exponent

ZERO = Decimal(0)
NEAR_LIMIT_PERCENT = Decimal(90)


def fetch_json(sql: str, params: dict[str, Any]) -> Any:
    """Run one statement that returns one JSON document; numbers come back as exact Decimals."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (text,) = cursor.fetchone()
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def round_base_sql(expression: str) -> str:
    """SQL rounding `expression` to the base currency's places (bound as `%(places)s`, see `base_places`)
    with the one rounding mode: PostgreSQL's round(numeric, n) rounds halves away from zero, which is
    `financetracker.core.money.ROUNDING` (ROUND_HALF_UP)."""
    return f"round(({expression}), %(places)s)"


def convert_sql(amount: str, fraction: str) -> str:
    """SQL converting `amount` with a rate given as {numerator, denominator} (`budgets_exchange_rate_fraction`,
    migration budgets 0003): the multiplication first and the division last, at 40 decimal places, so an
    inverse or cross rate never moves a half cent before the one rounding (`round_base_sql`)."""
    return f"(({amount}) * ({fraction})[1])::numeric(80, 40) / ({fraction})[2]"


def base_places(currency: str) -> int:
    return currency_exponent(currency)


def entries_cte(*, start_sql: str, end_sql: str) -> str:
    """CTEs `entries` (categorised amounts: see below), `rates` (one lookup per distinct foreign currency and
    day) and `converted` (base-currency amounts with the budget month label and a missing-rate flag).
    Transfers are excluded here, once, for every report.

    An entry is a split line, or a whole unsplit transaction. Amounts already in the base currency are read
    summed per (category, day) from `ledger_categorydaytotal` (migration ledger 0008, kept by triggers):
    rounding them to the base currency's places changes nothing, so their sum is the sum of the rounded
    parts. Each day's positive and other amounts come as two rows, so a report may still sort uncategorised
    amounts by sign. Amounts in another currency are read row by row from the books and converted one by one
    (each rounded before anything is summed), exactly as before; they come from accounts in that currency,
    on the (household, account, date) index."""
    label = label_month_sql("e.date", "%(start_day)s")
    amount_base = round_base_sql(
        f"CASE WHEN e.currency = %(base)s THEN e.amount ELSE {convert_sql('e.amount', 'r.fraction')} END"
    )
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    return f"""
entries AS (
    SELECT k.date, k.category_id, part.amount, k.currency
      FROM ledger_categorydaytotal k
     CROSS JOIN LATERAL (VALUES (k.inflow, k.inflow <> 0),
                                (k.total - k.inflow, k.total <> k.inflow OR k.inflow = 0)) AS part(amount, shown)
     WHERE k.household_id = %(household)s AND k.currency = %(base)s AND k.entry_count > 0 AND part.shown
       AND k.date >= {start_sql} AND k.date <= {end_sql}
    UNION ALL
    SELECT t.date, coalesce(s.category_id, t.category_id) AS category_id,
           coalesce(s.amount, t.amount) AS amount, a.currency
      FROM ledger_account a
      JOIN ledger_transaction t ON t.household_id = a.household_id AND t.account_id = a.id
      LEFT JOIN ledger_split s ON s.household_id = t.household_id AND s.transaction_id = t.id
     WHERE a.household_id = %(household)s AND a.currency <> %(base)s AND t.transfer_id IS NULL
       AND t.date >= {start_sql} AND t.date <= {end_sql}
),
rates AS (
    SELECT needed.currency, needed.date,
           budgets_exchange_rate_fraction(needed.currency, %(base)s, needed.date) AS fraction
      FROM (SELECT DISTINCT currency, date FROM entries WHERE currency <> %(base)s) AS needed
),
converted AS (
    SELECT e.category_id, c.kind, e.date, e.currency, e.amount, {label} AS month,
           {amount_base} AS amount_base,
           (e.currency <> %(base)s AND r.fraction IS NULL) AS missing
      FROM entries e
      LEFT JOIN ledger_category c ON c.household_id = %(household)s AND c.id = e.category_id
      LEFT JOIN rates r ON r.currency = e.currency AND r.date = e.date
)"""  # noqa: S608


def missing_rates_json(counted: str = "true") -> str:
    """SQL for the JSON list of amounts left out for want of a rate, among the `converted` rows for which
    `counted` (an SQL condition) holds: only amounts that would have counted in a figure shown."""
    return f"""
(SELECT coalesce(json_agg(json_build_object('currency', currency, 'date', date, 'amount', amount)
                          ORDER BY date, currency), '[]'::json)
   FROM (SELECT currency, date, sum(amount) AS amount FROM converted cv WHERE missing AND ({counted})
          GROUP BY currency, date) AS m)
"""  # noqa: S608


MISSING_RATES_JSON = missing_rates_json()


@dataclass(frozen=True)
class MissingRate:
    currency: str
    date: date
    amount: Decimal  # in `currency`, left out of the figures

    def as_dict(self) -> dict[str, str]:
        return {"currency": self.currency, "date": self.date.isoformat(), "amount": f"{self.amount:f}"}


def missing_rates_from(rows: list[dict[str, Any]]) -> list[MissingRate]:
    return [
        MissingRate(currency=row["currency"], date=date.fromisoformat(row["date"]), amount=Decimal(row["amount"]))
        for row in rows
    ]


def exchange_rate_on(from_currency: str, to_currency: str, on_date: date) -> Decimal | None:
    """The rate converting 1 `from_currency` into `to_currency` on a day (see `budgets.models`); None if unknown."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT budgets_exchange_rate(%s, %s, %s)", [from_currency, to_currency, on_date])
        (rate,) = cursor.fetchone()
    return rate
