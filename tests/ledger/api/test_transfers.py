"""Transfers through /api/v1/transfers/: both sides created, shown and deleted together."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.models import Transaction, Transfer
from tests.ledger.api.support import account, created, ok

pytestmark = pytest.mark.django_db


# --- Transfers -----------------------------------------------------------------------------------


def test_transfers_create_list_show_and_delete_both_sides(client: APIClient) -> None:
    checking, savings = account(client, "Checking"), account(client, "Savings")
    new = created(
        client.post(
            "/api/v1/transfers/",
            {
                "from_account": checking["id"],
                "to_account": savings["id"],
                "date": "2024-02-01",
                "amount": "50.00",
                "description": "Save",
            },
        )
    )
    assert {key: new[key] for key in ("from_account", "to_account", "date", "amount", "to_amount", "description")} == {
        "from_account": checking["id"],
        "to_account": savings["id"],
        "date": "2024-02-01",
        "amount": "50.00",
        "to_amount": "50.00",
        "description": "Save",
    }
    assert len(new["transactions"]) == 2
    assert ok(client.get(f"/api/v1/transfers/{new['id']}/"))["id"] == new["id"]
    assert [row["id"] for row in ok(client.get("/api/v1/transfers/"))["results"]] == [new["id"]]
    assert ok(client.get(f"/api/v1/accounts/{savings['id']}/"))["balance"] == "50.00"
    assert client.patch(f"/api/v1/transfers/{new['id']}/", {"amount": "1.00"}).status_code == 405
    assert client.delete(f"/api/v1/transfers/{new['id']}/").status_code == 204
    assert not Transaction.objects.exists()
    assert ok(client.get(f"/api/v1/accounts/{checking['id']}/"))["balance"] == "0.00"


def test_deleting_one_transfer_side_through_the_api_deletes_both(client: APIClient) -> None:
    checking, savings = account(client, "Checking"), account(client, "Savings")
    new = created(
        client.post(
            "/api/v1/transfers/",
            {"from_account": checking["id"], "to_account": savings["id"], "date": "2024-02-01", "amount": "5.00"},
        )
    )
    assert client.delete(f"/api/v1/transactions/{new['transactions'][0]}/").status_code == 204
    assert not Transfer.objects.exists()
    assert not Transaction.objects.exists()


def test_a_cross_currency_transfer_needs_the_amount_received(client: APIClient) -> None:
    checking, dollars = account(client, "Checking"), account(client, "Dollars", currency="USD")
    body = {"from_account": checking["id"], "to_account": dollars["id"], "date": "2024-02-01", "amount": "100.00"}
    response = client.post("/api/v1/transfers/", body)
    assert response.status_code == 400
    assert "to_amount" in response.json()
    assert not Transfer.objects.exists()
    new = created(client.post("/api/v1/transfers/", {**body, "to_amount": "108.20"}))
    assert (new["amount"], new["to_amount"]) == ("100.00", "108.20")


def test_a_transfer_to_the_same_account_is_refused(client: APIClient) -> None:
    checking = account(client)
    response = client.post(
        "/api/v1/transfers/",
        {"from_account": checking["id"], "to_account": checking["id"], "date": "2024-02-01", "amount": "5.00"},
    )
    assert response.status_code == 400
    assert "to_account" in response.json()
