"""Reads and reports. Every aggregate runs in PostgreSQL; a report is a fixed number of queries whatever
the number of categories, transactions, months or rates involved. See `common` for the rules every report shares.
"""

from budgets.selectors.budget_report import BudgetCategoryLine, BudgetReport, budget_report_for_month
from budgets.selectors.common import MissingRate, exchange_rate_on
from budgets.selectors.reports import (
    CashflowMonth,
    CashflowReport,
    ForecastReport,
    NetWorthReport,
    SpendingLine,
    SpendingReport,
    cashflow_report,
    forecast_report,
    net_worth_report,
    spending_by_category,
)
from budgets.selectors.scheduled import (
    UpcomingOccurrence,
    scheduled_next_due,
    scheduled_occurrences,
    scheduled_upcoming,
)

__all__ = [
    "BudgetCategoryLine",
    "BudgetReport",
    "CashflowMonth",
    "CashflowReport",
    "ForecastReport",
    "MissingRate",
    "NetWorthReport",
    "SpendingLine",
    "SpendingReport",
    "UpcomingOccurrence",
    "budget_report_for_month",
    "cashflow_report",
    "exchange_rate_on",
    "forecast_report",
    "net_worth_report",
    "scheduled_next_due",
    "scheduled_occurrences",
    "scheduled_upcoming",
    "spending_by_category",
]
