"""Accounts, categories and tags through /api/v1/: create, read, update, delete, refusals."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.models import Household
from tests.ledger.api.support import account, created, ok, transaction

pytestmark = pytest.mark.django_db


# --- Accounts ------------------------------------------------------------------------------------


def test_accounts_crud(client: APIClient, household: Household) -> None:
    new = account(client, opening_balance="10.00", kind="savings", institution="Bank")
    assert (new["household"], new["kind"], new["balance"], new["institution"]) == (
        household.pk,
        "savings",
        "10.00",
        "Bank",
    )
    assert ok(client.get(f"/api/v1/accounts/{new['id']}/"))["name"] == "Checking"
    assert [row["id"] for row in ok(client.get("/api/v1/accounts/"))["results"]] == [new["id"]]
    patched = ok(client.patch(f"/api/v1/accounts/{new['id']}/", {"name": "Main", "archived": True}))
    assert (patched["name"], patched["archived"]) == ("Main", True)
    put = ok(
        client.put(f"/api/v1/accounts/{new['id']}/", {"name": "Main", "currency": "USD", "opening_date": "2024-02-01"})
    )
    assert (put["currency"], put["opening_date"]) == ("USD", "2024-02-01")
    assert client.delete(f"/api/v1/accounts/{new['id']}/").status_code == 204
    assert client.get(f"/api/v1/accounts/{new['id']}/").status_code == 404


def test_account_create_refuses_bad_fields(client: APIClient) -> None:
    account(client)
    for body in (
        {"name": "Checking", "currency": "EUR", "opening_date": "2024-01-01"},
        {"name": "X", "currency": "ABC", "opening_date": "2024-01-01"},
        {"name": "X", "currency": "EUR", "opening_date": "01/02/2024"},
        {"name": "X", "currency": "EUR", "opening_date": "2024-01-01", "kind": "crypto"},
        {"currency": "EUR", "opening_date": "2024-01-01"},
    ):
        response = client.post("/api/v1/accounts/", body)
        assert response.status_code == 400, (body, response.content)


def test_an_account_with_transactions_is_archived_not_deleted(client: APIClient) -> None:
    new = account(client)
    transaction(client, new["id"])
    assert client.delete(f"/api/v1/accounts/{new['id']}/").status_code == 409
    response = client.patch(f"/api/v1/accounts/{new['id']}/", {"currency": "USD"})
    assert response.status_code == 400
    assert "currency" in response.json()


def test_account_balance_as_of_is_right_across_months(client: APIClient) -> None:
    new = account(client, opening_balance="100.00")
    for date, amount in (
        ("2024-01-31", "-10.00"),
        ("2024-02-01", "-1.00"),
        ("2024-02-29", "-2.00"),
        ("2024-04-15", "50.00"),
    ):
        transaction(client, new["id"], date=date, amount=amount)
    expected = {
        "2023-12-31": "0.00",
        "2024-01-01": "100.00",
        "2024-01-31": "90.00",
        "2024-02-01": "89.00",
        "2024-02-28": "89.00",
        "2024-02-29": "87.00",
        "2024-03-31": "87.00",
        "2024-04-15": "137.00",
        "2030-01-01": "137.00",
    }
    for as_of, balance in expected.items():
        body = ok(client.get(f"/api/v1/accounts/{new['id']}/balance/?as_of={as_of}"))
        assert (body["as_of"], body["balance"], body["currency"]) == (as_of, balance, "EUR")
    assert ok(client.get(f"/api/v1/accounts/{new['id']}/balance/"))["balance"] == "137.00"
    assert ok(client.get(f"/api/v1/accounts/{new['id']}/"))["balance"] == "137.00"


@pytest.mark.parametrize("as_of", ["2024-13-01", "yesterday", "2024-02-30", "0000-01-01", "2024-02-01T00:00"])
def test_account_balance_refuses_a_bad_date(client: APIClient, as_of: str) -> None:
    new = account(client)
    response = client.get(f"/api/v1/accounts/{new['id']}/balance/?as_of={as_of}")
    assert response.status_code == 400
    assert "as_of" in response.json()


# --- Categories and tags -------------------------------------------------------------------------


def test_categories_crud(client: APIClient) -> None:
    food = created(client.post("/api/v1/categories/", {"name": "Food"}))
    assert food["kind"] == "expense"
    groceries = created(client.post("/api/v1/categories/", {"name": "Groceries", "parent": food["id"]}))
    assert groceries["parent"] == food["id"]
    assert client.post("/api/v1/categories/", {"name": "Organic", "parent": groceries["id"]}).status_code == 400
    assert client.post("/api/v1/categories/", {"name": "Food"}).status_code == 400
    assert client.patch(f"/api/v1/categories/{food['id']}/", {"kind": "income"}).status_code == 400
    assert ok(client.patch(f"/api/v1/categories/{groceries['id']}/", {"name": "Market"}))["name"] == "Market"
    assert client.delete(f"/api/v1/categories/{food['id']}/").status_code == 409
    assert client.delete(f"/api/v1/categories/{groceries['id']}/").status_code == 204
    assert ok(client.put(f"/api/v1/categories/{food['id']}/", {"name": "Salary", "kind": "income"}))["kind"] == "income"
    assert [row["name"] for row in ok(client.get("/api/v1/categories/"))["results"]] == ["Salary"]


def test_tags_crud(client: APIClient) -> None:
    tag = created(client.post("/api/v1/tags/", {"name": "holiday"}))
    assert client.post("/api/v1/tags/", {"name": "holiday"}).status_code == 400
    assert ok(client.patch(f"/api/v1/tags/{tag['id']}/", {"name": "trip"}))["name"] == "trip"
    assert ok(client.put(f"/api/v1/tags/{tag['id']}/", {"name": "travel"}))["name"] == "travel"
    assert [row["name"] for row in ok(client.get("/api/v1/tags/"))["results"]] == ["travel"]
    assert client.delete(f"/api/v1/tags/{tag['id']}/").status_code == 204
    assert ok(client.get("/api/v1/tags/"))["results"] == []
