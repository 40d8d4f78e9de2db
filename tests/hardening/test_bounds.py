"""Dates, months and amounts at the edges of what the books hold: a 400 with a message, never a 500."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.models import AccountMonthTotal

pytestmark = pytest.mark.django_db


def assert_field_400(response, field: str) -> str:
    assert response.status_code == 400, response.content[:300]
    return response.json()[field][0]


@pytest.mark.parametrize("report", ["cashflow", "spending", "net-worth"])
def test_report_months_near_year_9999_are_a_400(api, household, report):
    response = api.get(f"/api/v1/reports/{report}/?household={household.pk}&start=9999-01&end=9999-12")
    assert "Give a month from 1900-01 to 2999-12" in assert_field_400(response, "start")


def test_a_budget_report_for_december_9999_is_a_400(api, household):
    response = api.get(f"/api/v1/reports/budget/?household={household.pk}&month=9999-12")
    assert "Give a month from" in assert_field_400(response, "month")


def test_a_budget_report_at_the_last_supported_month_answers(api, household):
    household.budget_month_start_day = 25
    household.save()
    response = api.get(f"/api/v1/reports/budget/?household={household.pk}&month=2999-12")
    assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "1899-12-31", "3000-01-01"])
def test_a_balance_as_of_a_date_out_of_range_is_a_400(api, account, as_of):
    response = api.get(f"/api/v1/accounts/{account.pk}/balance/?as_of={as_of}")
    assert "Give a date from 1900-01-01 to 2999-12-31" in assert_field_400(response, "as_of")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/transactions/", "date_after"),
        ("/api/v1/transactions/", "date_before"),
        ("/api/v1/exchange-rates/", "date_after"),
        ("/api/v1/budgets/", "month"),
    ],
)
def test_date_query_parameters_out_of_range_are_a_400(api, path, parameter):
    response = api.get(f"{path}?{parameter}=9999-12-31")
    assert "Give a date from" in assert_field_400(response, parameter)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_transaction_dated_outside_the_range_is_refused(api, account, day):
    payload = {"account": account.pk, "date": day, "amount": "-1.00"}
    assert "Give a date from" in assert_field_400(api.post("/api/v1/transactions/", payload, format="json"), "date")


def test_two_maximal_amounts_in_one_account_and_month_both_fit(api, account):
    largest = Decimal("999999999999.99")  # the largest EUR amount below the bound, 10^12
    for day in ("2024-03-01", "2024-03-02", "2024-03-03"):
        payload = {"account": account.pk, "date": day, "amount": f"{largest:f}"}
        response = api.post("/api/v1/transactions/", payload, format="json")
        assert response.status_code == 201, response.content[:300]
    total = AccountMonthTotal.objects.get(account=account).total
    assert total == 3 * largest
    balance = api.get(f"/api/v1/accounts/{account.pk}/balance/?as_of=2024-03-31").json()["balance"]
    assert Decimal(balance) == 3 * largest


def test_the_monthly_total_column_holds_a_thousand_times_the_column_of_one_amount(account):
    # Written past the API bound on purpose: even the column maximum, many times over, cannot overflow it.
    from tests.factories import TransactionFactory

    column_max = Decimal("999999999999999.9999")
    for _ in range(3):
        TransactionFactory(account=account, amount=column_max)
    assert AccountMonthTotal.objects.get(account=account).total == 3 * column_max


@pytest.mark.parametrize("amount", ["1000000000000", "-1000000000000.00", "999999999999999.99"])
def test_an_amount_at_or_past_the_bound_is_a_field_message(api, account, amount):
    payload = {"account": account.pk, "date": "2024-03-01", "amount": amount}
    assert "at most 12 digits" in assert_field_400(api.post("/api/v1/transactions/", payload, format="json"), "amount")


def test_a_budget_amount_past_the_bound_is_a_field_message(api, household):
    from tests.factories import CategoryFactory

    category = CategoryFactory(household=household)
    payload = {"category": category.pk, "month": "2024-03", "amount": "5000000000000.00"}
    assert "at most 12 digits" in assert_field_400(api.post("/api/v1/budgets/", payload, format="json"), "amount")
