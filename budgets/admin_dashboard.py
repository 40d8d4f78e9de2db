"""The back office's dashboard: balances, this month's budget progress, spending by category, the next 30 days'
bills and each account's forecast, for one household. A fixed number of queries whatever the data."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from budgets import admin_reports
from budgets.months import budget_month_of
from budgets.selectors import (
    ForecastReport,
    UpcomingOccurrence,
    budget_report_for_month,
    forecast_report,
    scheduled_upcoming,
    spending_by_category,
)
from financetracker.core.money import display_amount
from ledger.models import Household

UPCOMING_DAYS = 30
FORECAST_MONTHS = 6
SPARK_WIDTH, SPARK_HEIGHT = 90, 22


def _upcoming_rows(upcoming: list[UpcomingOccurrence]) -> list[dict[str, Any]]:
    rows = []
    for item in upcoming:
        scheduled = item.scheduled
        currency = scheduled.account.currency
        transfer_to = scheduled.to_account
        rows.append(
            {
                "date": item.date,
                "overdue": item.overdue,
                "payee": scheduled.payee or scheduled.description or "Scheduled",
                "account": scheduled.account.name
                if transfer_to is None
                else f"{scheduled.account.name} → {transfer_to.name}",
                # A transfer's amount is what leaves the source account.
                "amount": display_amount(
                    scheduled.amount if transfer_to is None else -scheduled.amount, currency, code=False
                ),
                "currency": currency,
                "category": scheduled.category.name if scheduled.category is not None else "",
            }
        )
    return rows


def _sparkline(values: list[Decimal]) -> str:
    """SVG polyline points for the values, scaled into SPARK_WIDTH by SPARK_HEIGHT (a flat line when constant)."""
    low, high = min(values), max(values)
    spread = high - low
    step = Decimal(SPARK_WIDTH - 4) / max(1, len(values) - 1)
    points = []
    for index, value in enumerate(values):
        ratio = Decimal("0.5") if spread == 0 else (value - low) / spread
        x = 2 + step * index
        y = Decimal(SPARK_HEIGHT - 2) - ratio * (SPARK_HEIGHT - 4)
        points.append(f"{x:.1f},{y:.1f}")
    return " ".join(points)


def _forecast_rows(forecast: ForecastReport) -> list[dict[str, Any]]:
    rows = []
    for account in forecast.accounts:
        values = forecast.projections[account.pk]
        rows.append(
            {
                "name": account.name,
                "currency": account.currency,
                "balance": display_amount(account.balance, account.currency, code=False),
                "values": [
                    {"amount": display_amount(value, account.currency, code=False), "negative": value < 0}
                    for value in values
                ],
                "points": _sparkline([account.balance, *values]),
                "trend": "down" if values and values[-1] < account.balance else "up",
            }
        )
    return rows


def dashboard_view(
    request: HttpRequest, *, households: list[Household], household: Household | None, site_context: dict[str, Any]
) -> HttpResponse:
    context: dict[str, Any] = {
        **site_context,
        "title": "Dashboard",
        "households": households,
        "household": household,
    }
    if household is not None:
        currency = household.base_currency
        today = timezone.localdate()
        month = budget_month_of(household, today)
        # The forecast starts from each open account's balance: the same rows serve the balances table.
        forecast = forecast_report(household, today=today, months=FORECAST_MONTHS)
        accounts = forecast.accounts
        upcoming = scheduled_upcoming(household, today=today, days=UPCOMING_DAYS)
        report = budget_report_for_month(household, month)
        spending = spending_by_category(household, month, month)
        largest = max((line.spent for line in spending.categories), default=Decimal(0))
        budget_rows = []
        for line in report.categories:
            funds = line.budgeted + line.carried_over
            width = 0 if funds <= 0 else min(100, int(line.spent * 100 / funds)) if line.spent > 0 else 0
            budget_rows.append(
                {
                    "name": line.name,
                    "spent": display_amount(line.spent, currency, code=False),
                    "funds": display_amount(funds, currency, code=False),
                    "available": display_amount(line.available, currency, code=False),
                    "percent": line.percent_used,
                    "width": 100 if line.over_budget else width,
                    "state": "over" if line.over_budget else ("near" if line.near_limit else "ok"),
                }
            )
        bar_height = 22
        spending_rows = [
            {
                "name": line.name,
                "amount": display_amount(line.spent, currency, code=False),
                "width": 0 if largest <= 0 or line.spent <= 0 else int(line.spent * 300 / largest),
                "y": index * bar_height,
                "text_y": index * bar_height + 15,
            }
            for index, line in enumerate(sorted(spending.categories, key=lambda x: -x.spent))
            if line.spent > 0
        ]
        context.update(admin_reports.dashboard_net_worth(household, today))
        context.update(
            {
                "currency": currency,
                "month": month,
                "report": report,
                # The same figures as the API's totals, written for people.
                "totals": {
                    name: display_amount(Decimal(value), currency, code=False)
                    for name, value in report.as_dict()["totals"].items()
                },
                "missing_rates": report.missing_rates,
                "accounts": [
                    {
                        "name": a.name,
                        "currency": a.currency,
                        "balance": display_amount(a.balance, a.currency, code=False),
                    }
                    for a in accounts
                ],
                "budget_rows": budget_rows,
                "spending_rows": spending_rows,
                "chart_height": max(bar_height, bar_height * len(spending_rows)),
                "upcoming_days": UPCOMING_DAYS,
                "upcoming_rows": _upcoming_rows(upcoming),
                "forecast_months": forecast.months,
                "forecast_rows": _forecast_rows(forecast),
                "spark_width": SPARK_WIDTH,
                "spark_height": SPARK_HEIGHT,
                "month_url": f"{reverse('admin:budgets_budget_month')}?household={household.pk}&month={month:%Y-%m}",
            }
        )
    return TemplateResponse(request, "admin/budgets/dashboard.html", context)
