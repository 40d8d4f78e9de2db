"""The budget report of one month (see `budgets.selectors.common` for the shared rules)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, overload

from budgets.months import add_months, budget_month_range, month_start_sql
from budgets.selectors.common import (
    NEAR_LIMIT_PERCENT,
    ZERO,
    MissingRate,
    base_places,
    entries_cte,
    fetch_json,
    missing_rates_from,
    missing_rates_json,
)
from financetracker.core.money import ROUNDING, format_amount
from ledger.models import Household

# The amounts a budget report counts: this month's, and the carried months' of the categories carried.
_COUNTED_IN_REPORT = (
    "cv.month = %(month)s OR EXISTS (SELECT 1 FROM runs WHERE runs.category_id = cv.category_id "
    "AND cv.month >= runs.first_month AND cv.month < %(month)s)"
)

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
        return (self.spent * 100 / funds).quantize(Decimal("0.1"), rounding=ROUNDING)

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
            "budgeted": format_amount(self.budgeted, currency),
            "spent": format_amount(self.spent, currency),
            "carried_over": format_amount(self.carried_over, currency),
            "available": format_amount(self.available, currency),
            "percent_used": None if percent is None else f"{percent:f}",
            "rollover": self.rollover,
            "over_budget": self.over_budget,
            "near_limit": self.near_limit,
            "missing_rate": self.missing_rate,
        }
        if self.parent_id is None:
            data["children"] = [child.as_dict(currency) for child in self.children]
        return data


class _SumOfLines:
    """A report's figure that is the sum of the same figure over its top-level category lines (a read-only
    attribute, not a dataclass field)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.figure = name

    @overload
    def __get__(self, report: None, owner: type) -> _SumOfLines: ...

    @overload
    def __get__(self, report: BudgetReport, owner: type | None = None) -> Decimal: ...

    def __get__(self, report: BudgetReport | None, owner: type | None = None) -> Decimal | _SumOfLines:
        if report is None:  # looked up on the class (introspection, documentation)
            return self
        return sum((getattr(line, self.figure) for line in report.categories), ZERO)


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

    budgeted = _SumOfLines()
    spent = _SumOfLines()
    carried_over = _SumOfLines()
    available = _SumOfLines()

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
                    "received": format_amount(-line.spent, currency),
                }
                for line in self.income_categories
            ],
            "totals": {
                "budgeted": format_amount(self.budgeted, currency),
                "spent": format_amount(self.spent, currency),
                "carried_over": format_amount(self.carried_over, currency),
                "available": format_amount(self.available, currency),
                "income": format_amount(self.income, currency),
                "left_to_budget": format_amount(self.left_to_budget, currency),
                "uncategorized": format_amount(self.uncategorized, currency),
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
        entries=entries_cte(start_sql=first, end_sql="%(end)s"), missing=missing_rates_json(_COUNTED_IN_REPORT)
    )
    data = fetch_json(
        sql,
        {
            "household": household.pk,
            "start_day": household.budget_month_start_day,
            "base": household.base_currency,
            "places": base_places(household.base_currency),
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
        missing_rates=missing_rates_from(data["missing_rates"]),
    )
