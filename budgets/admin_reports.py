"""The admin's report pages: cash flow, spending by category, net worth and the forecast, each a server-rendered
SVG chart with its data table beside it.

Every figure comes from the report's `as_dict()` — the very dictionary the API answers with, its query checked by
the API's own query serializers — so the admin shows exactly the API's figures, and every total shown is the
report's own total of the parts shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from budgets.api import serializers as query_serializers
from budgets.charts import Chart, Series, bar_chart, horizontal_bar_chart, line_chart
from budgets.months import add_months
from budgets.selectors import cashflow_report, forecast_report, net_worth_report, spending_by_category
from financetracker.core.money import display_amount
from ledger.models import Household

REPORTS = {
    "cashflow": "Cash flow",
    "spending": "Spending by category",
    "net_worth": "Net worth",
    "forecast": "Forecast",
}
FORECAST_DEFAULT_MONTHS = 12


def shown(amount: str, currency: str) -> str:
    """A report's figure (a plain decimal string) as people read it."""
    return display_amount(Decimal(amount), currency, code=False)


def _month_label(text: str) -> str:
    return date.fromisoformat(f"{text}-01").strftime("%b %Y")


def _series(name: str, points: list[dict[str, Any]], figure: str, css: str) -> Series:
    """A chart series of one figure of a report's points (its months, or an account's projection), each labelled
    as the report writes it."""
    return Series(name, [Decimal(point[figure]) for point in points], [point[figure] for point in points], css)


def _query(
    request: HttpRequest, serializer_class: type[Any], household: Household, defaults: dict[str, Any]
) -> dict[str, Any]:
    """The page's query checked by the API's serializer; a bad value is reported and the default used."""
    data: dict[str, Any] = {key: request.GET[key] for key in serializer_class().fields if request.GET.get(key)}
    data["household"] = household.pk
    serializer = serializer_class(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    problems = "; ".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in serializer.errors.items())
    messages.error(request, f"Showing the default range instead — {problems}")
    fallback = serializer_class(data={"household": household.pk, **defaults})
    fallback.is_valid(raise_exception=True)
    return dict(fallback.validated_data)


def cashflow_page(household: Household, query: dict[str, Any]) -> dict[str, Any]:
    data = cashflow_report(household, query["start"], query["end"]).as_dict()
    c = data["currency"]
    months = [_month_label(m["month"]) for m in data["months"]]
    chart = bar_chart(
        "Income and expense by month",
        months,
        [
            _series("Income", data["months"], "income", "income"),
            _series("Expense", data["months"], "expense", "expense"),
        ],
    )
    rows = [
        {
            "label": label,
            "income": shown(m["income"], c),
            "expense": shown(m["expense"], c),
            "net": shown(m["net"], c),
            "negative": Decimal(m["net"]) < 0,
        }
        for label, m in zip(months, data["months"], strict=True)
    ]
    totals = {key: shown(value, c) for key, value in data["totals"].items()}
    return {
        "data": data,
        "chart": chart,
        "rows": rows,
        "totals": totals,
        "negative_total": data["totals"]["net"][0] == "-",
    }


def spending_page(household: Household, query: dict[str, Any]) -> dict[str, Any]:
    data = spending_by_category(household, query["start"], query["end"]).as_dict()
    c = data["currency"]
    lines = [line for line in data["categories"] if Decimal(line["spent"]) != 0]
    chart = horizontal_bar_chart(
        "Spending by category",
        [line["name"] for line in lines],
        [Decimal(line["spent"]) for line in lines],
        [shown(line["spent"], c) for line in lines],
    )
    rows = []
    for line in data["categories"]:
        rows.append({"name": line["name"], "spent": shown(line["spent"], c), "child": False})
        children = line["children"]
        # What is booked on the parent itself, so a group's figure is the sum of the rows under it.
        own = Decimal(line["spent"]) - sum((Decimal(child["spent"]) for child in children), Decimal(0))
        if children and own != 0:
            rows.append(
                {
                    "name": f"{line['name']} — not in a subcategory",
                    "spent": display_amount(own, c, code=False),
                    "child": True,
                }
            )
        rows.extend(
            {"name": child["name"], "spent": shown(child["spent"], c), "child": True}
            for child in children
            if Decimal(child["spent"]) != 0
        )
    return {"data": data, "chart": chart, "rows": rows, "total": shown(data["total"], c)}


def net_worth_page(household: Household, query: dict[str, Any]) -> dict[str, Any]:
    data = net_worth_report(household, query["start"], query["end"]).as_dict()
    c = data["currency"]
    months = [_month_label(m["month"]) for m in data["months"]]
    chart = line_chart(
        f"Net worth at each month's end ({c})",
        months,
        [_series("Net worth", data["months"], "total", "total")],
    )
    accounts = data["accounts"]
    rows = []
    for label, month in zip(months, data["months"], strict=True):
        by_account = {entry["account"]: entry for entry in month["accounts"]}
        cells = []
        for account in accounts:
            entry = by_account.get(account["id"])
            if entry is None or entry["converted"] is None:
                cells.append({"amount": "no rate" if entry is not None else "—", "negative": False})
            else:
                cells.append({"amount": shown(entry["converted"], c), "negative": Decimal(entry["converted"]) < 0})
        rows.append(
            {"label": label, "cells": cells, "total": shown(month["total"], c), "negative": Decimal(month["total"]) < 0}
        )
    return {"data": data, "chart": chart, "rows": rows, "accounts": accounts}


def forecast_page(household: Household, query: dict[str, Any]) -> dict[str, Any]:
    report = forecast_report(household, today=timezone.localdate(), months=query["months"])
    data = report.as_dict()
    months = [_month_label(m) for m in data["months"]]
    charts: list[Chart] = []
    # One chart per currency: balances in different currencies do not share an axis.
    for currency in sorted({account["currency"] for account in data["accounts"]}):
        accounts = [account for account in data["accounts"] if account["currency"] == currency]
        series = [
            _series(account["name"], account["projection"], "balance", f"series-{index % 6}")
            for index, account in enumerate(accounts)
        ]
        charts.append(line_chart(f"Projected balance at each month's end ({currency})", months, series))
    rows = [
        {
            "name": account["name"],
            "currency": account["currency"],
            "balance": shown(account["balance"], account["currency"]),
            "values": [
                {"amount": shown(p["balance"], account["currency"]), "negative": Decimal(p["balance"]) < 0}
                for p in account["projection"]
            ],
        }
        for account in data["accounts"]
    ]
    return {"data": data, "charts": charts, "rows": rows, "months": months}


PAGES: dict[str, tuple[type[Any], Callable[[Household, dict[str, Any]], dict[str, Any]]]] = {
    "cashflow": (query_serializers.MonthRangeQuerySerializer, cashflow_page),
    "spending": (query_serializers.MonthRangeQuerySerializer, spending_page),
    "net_worth": (query_serializers.MonthRangeQuerySerializer, net_worth_page),
    "forecast": (query_serializers.ForecastQuerySerializer, forecast_page),
}


def report_view(
    request: HttpRequest,
    report: str,
    *,
    households: list[Household],
    household: Household | None,
    context: dict[str, Any],
) -> HttpResponse:
    if household is None:
        messages.warning(request, "You belong to no household yet.")
        return HttpResponseRedirect(reverse("admin:index"))
    serializer_class, build = PAGES[report]
    this_month = timezone.localdate().replace(day=1)
    defaults: dict[str, Any] = (
        {"months": FORECAST_DEFAULT_MONTHS} if report == "forecast" else {"end": f"{this_month:%Y-%m}"}
    )
    query = _query(request, serializer_class, household, defaults)
    page = build(household, query)
    context = {
        **context,
        "title": REPORTS[report],
        "report": report,
        "reports": [
            {"key": key, "title": title, "url": reverse(f"admin:budgets_report_{key}") + f"?household={household.pk}"}
            for key, title in REPORTS.items()
        ],
        "households": households,
        "household": household,
        "currency": household.base_currency,
        "query": query,
        "start_text": f"{query['start']:%Y-%m}" if "start" in query else "",
        "end_text": f"{query['end']:%Y-%m}" if "end" in query else "",
        "previous_range": _shifted(household, query, -12),
        "next_range": _shifted(household, query, 12),
        **page,
    }
    return TemplateResponse(request, f"admin/budgets/reports/{report}.html", context)


def _shifted(household: Household, query: dict[str, Any], months: int) -> str:
    if "start" not in query:
        return ""
    start, end = add_months(query["start"], months), add_months(query["end"], months)
    return f"?household={household.pk}&start={start:%Y-%m}&end={end:%Y-%m}"


DASHBOARD_NET_WORTH_MONTHS = 12


def dashboard_net_worth(household: Household, today: date) -> dict[str, Any]:
    """The dashboard's net-worth figure (this month's end, as the net-worth report says) and its last 12 months."""
    end = today.replace(day=1)
    page = net_worth_page(household, {"start": add_months(end, 1 - DASHBOARD_NET_WORTH_MONTHS), "end": end})
    months = page["data"]["months"]
    latest = months[-1]
    return {
        "net_worth": shown(latest["total"], page["data"]["currency"]),
        "net_worth_negative": Decimal(latest["total"]) < 0,
        "net_worth_chart": page["chart"],
        "net_worth_missing_rates": page["data"]["missing_rates"],
        "report_links": [
            {"title": title, "url": reverse(f"admin:budgets_report_{key}") + f"?household={household.pk}"}
            for key, title in REPORTS.items()
        ],
    }
