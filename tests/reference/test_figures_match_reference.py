"""Property tests: on generated households, every figure the API shows equals the reference model's.

Run bounded in CI (profile "ci", the default); `HYPOTHESIS_PROFILE=long` runs 10,000 examples per
property. Each example is built in a savepoint that is rolled back, after the deferred constraints fire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from hypothesis import given
from rest_framework.test import APIClient

from ledger.models import User
from tests.conftest import check_deferred_constraints
from tests.reference.households import REPORT_MONTHS, Built, Plan, build, plans

D = Decimal


class Rollback(Exception):
    """Raised at the end of an example so its savepoint is rolled back."""


def run_example(owner: User, plan: Plan, check: Callable[[Built], None]) -> None:
    try:
        with transaction.atomic():
            built = build(plan, owner)
            check_deferred_constraints()
            check(built)
            raise Rollback
    except Rollback:
        pass


def get(client: APIClient, url: str, **params: Any) -> Any:
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def same_missing(api: list[dict[str, str]], reference: list[dict[str, Any]]) -> None:
    # Ordered by date and currency; two accounts of one currency on one day may come in either order.
    assert sorted((m["date"], m["currency"], D(m["amount"])) for m in api) == sorted(
        (m["date"], m["currency"], m["amount"]) for m in reference
    )


def check_balances(client: APIClient, built: Built) -> None:
    books = built.books
    for account in built.accounts:
        data = get(client, f"/api/v1/accounts/{account.pk}/")
        assert D(data["balance"]) == books.balance(account.pk), "current balance"
        for as_of in (date(2024, 1, 15), date(2024, 2, 29), date(2024, 4, 30)):
            data = get(client, f"/api/v1/accounts/{account.pk}/balance/", as_of=as_of.isoformat())
            assert D(data["balance"]) == books.balance(account.pk, as_of), f"balance as of {as_of}"


def check_cashflow(client: APIClient, built: Built) -> None:
    expected = built.books.cashflow(REPORT_MONTHS[0], REPORT_MONTHS[-1])
    data = get(client, "/api/v1/reports/cashflow/", household=built.household.pk, start="2024-01", end="2024-04")
    assert [(m["month"], D(m["income"]), D(m["expense"]), D(m["net"])) for m in data["months"]] == [
        (f"{m['month']:%Y-%m}", m["income"], m["expense"], m["net"]) for m in expected["months"]
    ]
    assert {key: D(value) for key, value in data["totals"].items()} == expected["totals"]
    same_missing(data["missing_rates"], expected["missing_rates"])


def check_spending(client: APIClient, built: Built) -> None:
    expected = built.books.spending(REPORT_MONTHS[0], REPORT_MONTHS[-1])
    data = get(client, "/api/v1/reports/spending/", household=built.household.pk, start="2024-01", end="2024-04")

    def lines(rows: list[dict[str, Any]]) -> list[tuple[int, Decimal, list[tuple[int, Decimal]]]]:
        return [
            (row["category"], D(row["spent"]), [(c["category"], D(c["spent"])) for c in row.get("children", [])])
            for row in rows
        ]

    assert lines(data["categories"]) == lines(
        [
            {**row, "spent": str(row["spent"]), "children": [{**c, "spent": str(c["spent"])} for c in row["children"]]}
            for row in expected["categories"]
        ]
    )
    assert D(data["total"]) == expected["total"]
    same_missing(data["missing_rates"], expected["missing_rates"])


BUDGET_FIGURES = ("budgeted", "spent", "carried_over", "available")


def check_budget_report(client: APIClient, built: Built, month: date) -> None:
    expected = built.books.budget_report(month)
    data = get(client, "/api/v1/reports/budget/", household=built.household.pk, month=f"{month:%Y-%m}")
    assert (data["start"], data["end"]) == (expected["start"].isoformat(), expected["end"].isoformat())

    def lines(rows: list[dict[str, Any]], *, api: bool) -> list[tuple]:
        out = []
        for row in rows:
            figures = tuple(D(row[key]) if api else row[key] for key in BUDGET_FIGURES)
            out.append((row["category"], figures, row["rollover"], row["missing_rate"]))
            out += lines(row.get("children", []), api=api)
        return out

    assert lines(data["categories"], api=True) == lines(expected["categories"], api=False)
    assert [(x["category"], D(x["received"])) for x in data["income_categories"]] == [
        (x["category"], x["received"]) for x in expected["income_categories"]
    ]
    assert {key: D(value) for key, value in data["totals"].items()} == expected["totals"]
    same_missing(data["missing_rates"], expected["missing_rates"])


def check_net_worth(client: APIClient, built: Built) -> None:
    expected = built.books.net_worth(REPORT_MONTHS[0], REPORT_MONTHS[-1])
    data = get(client, "/api/v1/reports/net-worth/", household=built.household.pk, start="2024-01", end="2024-04")
    for got, want in zip(data["months"], expected["months"], strict=True):
        assert got["end"] == want["end"].isoformat()
        assert [(a["account"], D(a["balance"]), a["converted"] and D(a["converted"])) for a in got["accounts"]] == [
            (a["account"], a["balance"], a["converted"]) for a in want["accounts"]
        ]
        assert D(got["total"]) == want["total"]
    same_missing(data["missing_rates"], expected["missing_rates"])


@given(plan=plans())
def test_balances_and_reports_equal_the_reference(owner: User, owner_client: APIClient, plan: Plan) -> None:
    client = owner_client

    def check(built: Built) -> None:
        check_balances(client, built)
        check_cashflow(client, built)
        check_spending(client, built)
        for month in REPORT_MONTHS[1:]:
            check_budget_report(client, built, month)
        check_net_worth(client, built)

    run_example(owner, plan, check)
