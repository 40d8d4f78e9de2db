"""The budgets API through the personas: viewers read, editors write, outsiders see nothing."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from tests.budgets.factories import BudgetFactory, ExchangeRateFactory, ScheduledTransactionFactory
from tests.factories import AccountFactory, Books, CategoryFactory

REPORTS = ["budget", "cashflow", "spending", "net-worth", "forecast"]


def report_url(name: str, household_id: int, **params: str) -> str:
    query = {"household": str(household_id), **params}
    if name == "budget":
        query.setdefault("month", "2024-03")
    return f"/api/v1/reports/{name}/?" + "&".join(f"{key}={value}" for key, value in query.items())


def test_it_lets_an_editor_set_a_budget_line(books: Books, editor, client_for) -> None:
    payload = {"household": books.household.pk, "category": books.rent.pk, "month": "2024-03", "amount": "950.00"}

    response = client_for(editor).post("/api/v1/budgets/", payload, format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["month"] == "2024-03"
    assert response.json()["amount"] == "950.00"
    again = client_for(editor).post("/api/v1/budgets/", {**payload, "amount": "900.00"}, format="json")
    assert again.status_code == 201
    assert Budget.objects.get().amount == Decimal("900.00")


def test_it_refuses_writes_from_a_viewer(books: Books, viewer, client_for) -> None:
    line = BudgetFactory(household=books.household, category=books.rent)
    client = client_for(viewer)
    payload = {"household": books.household.pk, "category": books.rent.pk, "month": "2024-04", "amount": "1.00"}

    assert client.get("/api/v1/budgets/").status_code == 200
    assert client.post("/api/v1/budgets/", payload, format="json").status_code == 403
    assert client.patch(f"/api/v1/budgets/{line.pk}/", {"amount": "2.00"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/budgets/{line.pk}/").status_code == 403
    scheduled = {
        "household": books.household.pk,
        "account": books.checking.pk,
        "amount": "-9.99",
        "recurrence": "FREQ=MONTHLY",
        "start_date": "2024-01-01",
    }
    assert client.post("/api/v1/scheduled/", scheduled, format="json").status_code == 403


def test_an_outsider_sees_nothing_of_the_household(books: Books, outsider, client_for) -> None:
    line = BudgetFactory(household=books.household, category=books.rent)
    scheduled = ScheduledTransactionFactory(account=books.checking)
    client = client_for(outsider)

    assert client.get("/api/v1/budgets/").json()["results"] == []
    assert client.get(f"/api/v1/budgets/{line.pk}/").status_code == 404
    assert client.patch(f"/api/v1/budgets/{line.pk}/", {"amount": "1.00"}, format="json").status_code == 404
    assert client.get(f"/api/v1/scheduled/{scheduled.pk}/").status_code == 404
    assert client.get(f"/api/v1/scheduled/upcoming/?household={books.household.pk}").status_code == 404
    for name in REPORTS:
        assert client.get(report_url(name, books.household.pk)).status_code == 404, name


def test_an_outsider_cannot_budget_into_the_household_or_with_its_categories(
    books: Books, outsider, outsider_household, client_for
) -> None:
    client = client_for(outsider)
    into = {"household": books.household.pk, "category": books.rent.pk, "month": "2024-03", "amount": "1.00"}
    borrowed = {**into, "household": outsider_household.pk}

    assert client.post("/api/v1/budgets/", into, format="json").status_code == 400
    response = client.post("/api/v1/budgets/", borrowed, format="json")
    assert response.status_code == 400
    assert "category" in response.json()
    assert not Budget.objects.exists()


@pytest.mark.parametrize("name", REPORTS)
def test_a_viewer_reads_every_report(books: Books, viewer, client_for, name: str) -> None:
    response = client_for(viewer).get(report_url(name, books.household.pk))

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("budget", {"month": "2024-13"}, "month"),
        ("budget", {"month": "march"}, "month"),
        ("cashflow", {"start": "2024-05", "end": "2024-01"}, "start"),
        ("cashflow", {"start": "1990-01", "end": "2024-01"}, "end"),
        ("spending", {"end": "2024-1"}, "end"),
        ("net-worth", {"start": "x"}, "start"),
        ("forecast", {"months": "0"}, "months"),
        ("forecast", {"months": "many"}, "months"),
    ],
)
def test_bad_report_parameters_are_a_400_with_field_messages(
    books: Books, owner, client_for, name: str, params: dict[str, str], field: str
) -> None:
    response = client_for(owner).get(report_url(name, books.household.pk, **params))

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("value", ["", "abc", "-1", "99999999999999999999999", "0"])
def test_a_bad_household_parameter_is_a_400(books: Books, owner, client_for, value: str) -> None:
    response = client_for(owner).get(f"/api/v1/reports/cashflow/?household={value}")

    assert response.status_code == 400
    assert "household" in response.json()


def test_an_unknown_household_is_a_404(books: Books, owner, client_for) -> None:
    assert client_for(owner).get(report_url("budget", 9_000_000)).status_code == 404


def test_the_budget_report_endpoint_returns_amounts_as_strings(books: Books, owner, client_for) -> None:
    BudgetFactory(
        household=books.household, category=books.rent, month=datetime.date(2024, 3, 1), amount=Decimal("500")
    )

    data = client_for(owner).get(report_url("budget", books.household.pk)).json()

    rent = next(line for line in data["categories"] if line["category"] == books.rent.pk)
    assert rent["budgeted"] == "500.00"
    assert data["totals"]["left_to_budget"] == "-500.00"
    assert data["missing_rates"] == []


def test_a_scheduled_transaction_with_a_bad_rule_is_a_400(books: Books, owner, client_for) -> None:
    payload = {
        "household": books.household.pk,
        "account": books.checking.pk,
        "amount": "-9.99",
        "recurrence": "FREQ=SOMETIMES",
        "start_date": "2024-01-01",
    }

    response = client_for(owner).post("/api/v1/scheduled/", payload, format="json")

    assert response.status_code == 400
    assert "recurrence" in response.json()


def test_an_editor_schedules_a_bill_and_sees_it_upcoming(books: Books, editor, client_for) -> None:
    today = datetime.date.today()
    payload = {
        "household": books.household.pk,
        "account": books.checking.pk,
        "amount": "-9.99",
        "payee": "Streaming",
        "category": books.rent.pk,
        "recurrence": "FREQ=WEEKLY",
        "start_date": (today + datetime.timedelta(days=2)).isoformat(),
    }
    client = client_for(editor)

    created = client.post("/api/v1/scheduled/", payload, format="json")
    upcoming = client.get(f"/api/v1/scheduled/upcoming/?household={books.household.pk}&days=14")

    assert created.status_code == 201, created.json()
    assert created.json()["next_due"] == payload["start_date"]
    dates = [item["date"] for item in upcoming.json()]
    assert dates == [(today + datetime.timedelta(days=offset)).isoformat() for offset in (2, 9)]
    assert upcoming.json()[0]["amount"] == "-9.99"


def test_upcoming_rejects_bad_days(books: Books, owner, client_for) -> None:
    response = client_for(owner).get(f"/api/v1/scheduled/upcoming/?household={books.household.pk}&days=-3")

    assert response.status_code == 400
    assert "days" in response.json()


def test_scheduled_cannot_use_another_households_account(books: Books, owner, outsider_household, client_for) -> None:
    theirs = AccountFactory(household=outsider_household)
    payload = {
        "household": books.household.pk,
        "account": theirs.pk,
        "amount": "-1.00",
        "recurrence": "FREQ=DAILY",
        "start_date": "2024-01-01",
    }

    response = client_for(owner).post("/api/v1/scheduled/", payload, format="json")

    assert response.status_code == 400
    assert not ScheduledTransaction.objects.exists()


def grant_rate_writes(user) -> None:
    """Rates are written with the model's own permissions, granted explicitly: staff status is not enough."""
    from django.contrib.auth.models import Permission

    user.user_permissions.add(*Permission.objects.filter(codename__in=["add_exchangerate", "change_exchangerate"]))


def test_everyone_signed_in_reads_rates_but_only_holders_of_the_permission_write_them(
    owner, outsider, client_for
) -> None:
    ExchangeRateFactory()
    payload = {"date": "2024-02-01", "base": "EUR", "quote": "USD", "rate": "1.0812"}

    assert len(client_for(outsider).get("/api/v1/exchange-rates/").json()["results"]) == 1
    assert client_for(owner).post("/api/v1/exchange-rates/", payload, format="json").status_code == 403
    owner.is_staff = True
    owner.save()
    assert client_for(owner).post("/api/v1/exchange-rates/", payload, format="json").status_code == 403
    grant_rate_writes(owner)
    created = client_for(owner).post("/api/v1/exchange-rates/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["rate"] == "1.0812"
    assert ExchangeRate.objects.count() == 2


def test_rates_need_a_login(api_client) -> None:
    assert api_client.get("/api/v1/exchange-rates/").status_code in (401, 403)


def test_budgets_filter_by_household_and_month(books: Books, owner, client_for) -> None:
    BudgetFactory(household=books.household, category=books.rent, month=datetime.date(2024, 3, 1))
    BudgetFactory(household=books.household, category=books.rent, month=datetime.date(2024, 4, 1))
    other = CategoryFactory(household=books.household, name="Other")
    BudgetFactory(household=books.household, category=other, month=datetime.date(2024, 3, 1))
    client = client_for(owner)

    march = client.get(f"/api/v1/budgets/?household={books.household.pk}&month=2024-03").json()["results"]

    assert sorted(line["category"] for line in march) == sorted([books.rent.pk, other.pk])
    assert client.get("/api/v1/budgets/?month=2024-99").status_code == 400


def test_an_editor_changes_and_deletes_a_budget_line(books: Books, editor, client_for) -> None:
    line = BudgetFactory(household=books.household, category=books.rent, amount=Decimal("10.00"))
    client = client_for(editor)

    changed = client.patch(f"/api/v1/budgets/{line.pk}/", {"amount": "25.50", "rollover": True}, format="json")

    assert changed.status_code == 200, changed.json()
    assert (changed.json()["amount"], changed.json()["rollover"]) == ("25.50", True)
    assert client.patch(f"/api/v1/budgets/{line.pk}/", {"amount": "-1"}, format="json").status_code == 400
    assert client.patch(f"/api/v1/budgets/{line.pk}/", {"amount": "1.001"}, format="json").status_code == 400
    assert client.delete(f"/api/v1/budgets/{line.pk}/").status_code == 204
    assert not Budget.objects.exists()


def test_budgets_refuse_income_categories_and_bad_months(books: Books, owner, client_for) -> None:
    client = client_for(owner)
    base = {"household": books.household.pk, "category": books.rent.pk, "amount": "1.00"}

    income = client.post("/api/v1/budgets/", {**base, "category": books.salary.pk, "month": "2024-03"}, format="json")
    month = client.post("/api/v1/budgets/", {**base, "month": "2024-3-15"}, format="json")
    amount = client.post("/api/v1/budgets/", {**base, "month": "2024-03", "amount": 1.5}, format="json")

    assert (income.status_code, month.status_code, amount.status_code) == (400, 400, 400)
    assert "category" in income.json()
    assert "month" in month.json()
    assert "amount" in amount.json()


def test_an_editor_updates_and_deletes_a_schedule(books: Books, editor, client_for) -> None:
    scheduled = ScheduledTransactionFactory(account=books.checking)
    client = client_for(editor)

    changed = client.patch(f"/api/v1/scheduled/{scheduled.pk}/", {"amount": "-75.25"}, format="json")
    bad = client.patch(f"/api/v1/scheduled/{scheduled.pk}/", {"recurrence": "RRULE:FREQ=NEVER"}, format="json")

    assert changed.status_code == 200, changed.json()
    assert changed.json()["amount"] == "-75.25"
    assert bad.status_code == 400
    assert "recurrence" in bad.json()
    assert client.delete(f"/api/v1/scheduled/{scheduled.pk}/").status_code == 204
    assert not ScheduledTransaction.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"date": "2024-02-01", "base": "EUR", "quote": "EUR", "rate": "1"},
        {"date": "2024-02-01", "base": "EUR", "quote": "USD", "rate": "-1"},
        {"date": "2024-02-01", "base": "EUR", "quote": "USD", "rate": "1.00000000001"},
        {"date": "01/02/2024", "base": "EUR", "quote": "USD", "rate": "1"},
        {"date": "2024-02-01", "base": "EURO", "quote": "USD", "rate": "1"},
        {"date": "2024-02-01", "base": "EUR", "quote": "USD", "rate": 1.1},
    ],
)
def test_bad_rates_are_a_400(owner, client_for, payload: dict[str, object]) -> None:
    grant_rate_writes(owner)

    response = client_for(owner).post("/api/v1/exchange-rates/", payload, format="json")

    assert response.status_code == 400
    assert not ExchangeRate.objects.exists()


def test_a_duplicate_rate_is_a_400_not_a_500(owner, client_for) -> None:
    grant_rate_writes(owner)
    ExchangeRateFactory(date=datetime.date(2024, 2, 1))

    response = client_for(owner).post(
        "/api/v1/exchange-rates/", {"date": "2024-02-01", "base": "EUR", "quote": "USD", "rate": "1"}, format="json"
    )

    assert response.status_code in (400, 409)


def test_report_endpoints_run_the_same_queries_whatever_the_data_size(books: Books, owner, client_for) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import TransactionFactory

    client = client_for(owner)

    def counts() -> list[int]:
        result = []
        for name in REPORTS:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(report_url(name, books.household.pk)).status_code == 200
            result.append(len(queries))
        return result

    counts()  # warm up: the first request also records the token's first use
    before = counts()
    for index in range(15):
        category = CategoryFactory(household=books.household, name=f"Bulk {index}")
        BudgetFactory(household=books.household, category=category, month=datetime.date(2024, 3, 1))
        TransactionFactory(account=books.checking, category=category, date=datetime.date(2024, 3, 4))
        ScheduledTransactionFactory(account=books.checking, start_date=datetime.date.today())

    assert counts() == before
    # The token with its user and the person's memberships; the household; the report (forecast: 2).
    assert before == [3, 3, 3, 3, 4]
