"""Print a household's budget report for one month."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from budgets.management.commands._household import household_arg, month_arg
from budgets.selectors import BudgetCategoryLine, budget_report_for_month
from financetracker.core.money import format_amount


class Command(BaseCommand):
    help = "Show a budget month: budgeted, spent, carried over, available and percent used per category."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--household", type=int, required=True, help="Household id.")
        parser.add_argument("--month", required=True, help="Budget month, YYYY-MM.")
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        household = household_arg(options["household"])
        report = budget_report_for_month(household, month_arg(options["month"], "--month"))
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        currency = report.currency
        self.stdout.write(f"Budget {report.month:%Y-%m} ({report.start} to {report.end}), amounts in {currency}")
        header = f"{'Category':<32} {'Budgeted':>12} {'Carried':>12} {'Spent':>12} {'Available':>12} {'Used':>7}"
        self.stdout.write(header)
        self.stdout.write("-" * len(header))

        def row(line: BudgetCategoryLine, indent: str) -> None:
            percent = "" if line.percent_used is None else f"{line.percent_used}%"
            flag = " OVER" if line.over_budget else (" near" if line.near_limit else "")
            flag += " (missing rate)" if line.missing_rate else ""
            name = (indent + line.name)[:32]
            self.stdout.write(f"{name:<32} {self._amounts(line, currency)} {percent:>7}{flag}")

        for line in report.categories:
            row(line, "")
            for child in line.children:
                row(child, "  ")
        self.stdout.write("-" * len(header))
        self.stdout.write(f"{'Total':<32} {self._amounts(report, currency)}")
        income, left = format_amount(report.income, currency), format_amount(report.left_to_budget, currency)
        self.stdout.write(f"Income {income}; left to budget {left}")
        for missing in report.missing_rates:
            self.stdout.write(
                self.style.WARNING(
                    f"No {missing.currency}→{currency} rate on {missing.date}: {missing.amount} {missing.currency} "
                    "left out of the figures."
                )
            )

    @staticmethod
    def _amounts(figures: Any, currency: str) -> str:
        """Budgeted, carried over, spent and available, each in a 12-wide column."""
        amounts = (figures.budgeted, figures.carried_over, figures.spent, figures.available)
        return " ".join(f"{format_amount(amount, currency):>12}" for amount in amounts)
