"""The rows of the budget month page, built from the month's budget report (`budget_report_for_month`, the API's
report) so the page and the API never disagree.

A group (a parent category with subcategories) shows the report's rolled-up figures, then a row for what is
budgeted or booked on the parent itself ("Food — not in a subcategory", left out when all zero) and one per
subcategory: a group's figures are the sum of the rows under it, and the page's totals (the report's) the sum
of the top-level rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from budgets.models import Budget
from budgets.selectors import BudgetReport
from budgets.selectors.budget_report import BudgetCategoryLine
from financetracker.core.money import display_amount, format_amount

ZERO = Decimal(0)


def _figures(
    budgeted: Decimal, spent: Decimal, carried: Decimal, currency: str, *, near: bool = False
) -> dict[str, Any]:
    available = budgeted + carried - spent
    return {
        "budgeted": display_amount(budgeted, currency, code=False),
        "spent": display_amount(spent, currency, code=False),
        "carried": display_amount(carried, currency, code=False),
        "available": display_amount(available, currency, code=False),
        "overspent": display_amount(-available, currency, code=False) if available < 0 else "",
        "over": available < 0,
        "near": near and available >= 0,
        "carried_negative": carried < 0,
    }


def month_rows(
    report: BudgetReport,
    *,
    editable: set[int],
    lines: dict[int, Budget],
    posted: dict[str, str] | None,
    errors: dict[int, str],
) -> list[dict[str, Any]]:
    """Rows for the page: `editable` categories get an input with the stored (or just posted) amount."""
    currency = report.currency

    def entry(line: BudgetCategoryLine, kind: str, name: str, figures: dict[str, Any]) -> dict[str, Any]:
        stored = lines.get(line.category_id)
        if posted is not None:
            amount = posted.get(f"amount_{line.category_id}", "")
            rollover = posted.get(f"rollover_{line.category_id}") == "on"
        else:
            # The input holds the plain form ("1234.50"), what a person types and the service reads.
            amount = format_amount(stored.amount, currency) if stored is not None else ""
            rollover = stored.rollover if stored is not None else False
        return {
            "kind": kind,
            "name": name,
            "category_id": line.category_id,
            "editable": kind != "group" and line.category_id in editable,
            "amount": amount,
            "rollover": rollover,
            "error": errors.get(line.category_id),
            **figures,
        }

    rows: list[dict[str, Any]] = []
    for line in report.categories:
        if not line.children:
            figures = _figures(line.budgeted, line.spent, line.carried_over, currency, near=line.near_limit)
            rows.append(entry(line, "line", line.name, figures))
            continue
        rows.append(
            entry(
                line,
                "group",
                line.name,
                _figures(line.budgeted, line.spent, line.carried_over, currency, near=line.near_limit),
            )
        )
        children = line.children
        own = _figures(
            line.budgeted - sum((c.budgeted for c in children), ZERO),
            line.spent - sum((c.spent for c in children), ZERO),
            line.carried_over - sum((c.carried_over for c in children), ZERO),
            currency,
        )
        own_row = entry(line, "own", f"{line.name} — not in a subcategory", own)
        # Shown when something is booked or budgeted on the parent itself (or it was just typed there).
        if (
            line.category_id in lines
            or own_row["amount"]
            or any(own[key] != display_amount(ZERO, currency, code=False) for key in ("budgeted", "spent", "carried"))
        ):
            rows.append(own_row)
        for child in sorted(children, key=lambda c: (c.name, c.category_id)):
            figures = _figures(child.budgeted, child.spent, child.carried_over, currency, near=child.near_limit)
            rows.append(entry(child, "child", child.name, figures))
    return rows


def month_totals(report: BudgetReport) -> dict[str, str]:
    data = report.as_dict()["totals"]
    currency = report.currency
    return {key: display_amount(Decimal(value), currency, code=False) for key, value in data.items()} | {
        "left_negative": "1" if report.left_to_budget < 0 else "",
        "available_negative": "1" if report.available < 0 else "",
        "has_uncategorized": "1" if report.uncategorized != 0 else "",
    }
