"""A reconciled transaction is locked (409) until it is explicitly un-reconciled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Reconciliation, Transaction, User
from tests.ledger.api.support import account as create_account
from tests.ledger.api.support import category, transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(owner)


@pytest.fixture
def books(client: APIClient) -> dict[str, Any]:
    account = create_account(client, opening_balance="100.00")
    savings = create_account(client, "Savings")
    food, fun = category(client, "Food"), category(client, "Fun")
    tx = transaction(client, account["id"], amount="-30.00", splits=[{"category": food["id"], "amount": "-30.00"}])
    response = client.post(
        f"/api/v1/accounts/{account['id']}/reconcile/", {"statement_date": "2024-02-29", "statement_balance": "70.00"}
    )
    assert response.status_code == 201, response.content
    assert response.json()["reconciled_transactions"] == 1
    return {"account": account, "savings": savings, "food": food, "fun": fun, "tx": tx}


@pytest.mark.parametrize(
    "change",
    [
        {"amount": "-31.00"},
        {"date": "2024-02-02"},
        {"payee": "Someone else"},
        {"description": "edited"},
        {"status": "cleared"},
        {"status": "pending"},
        {"tags": []},
        {"splits": []},
    ],
)
def test_a_reconciled_transaction_refuses_changes_with_409(
    client: APIClient, books: dict[str, Any], change: dict[str, Any]
) -> None:
    response = client.patch(f"/api/v1/transactions/{books['tx']['id']}/", change)
    assert response.status_code == 409, response.content
    assert "reconciled" in response.json()["detail"]
    assert Transaction.objects.get(pk=books["tx"]["id"]).status == "reconciled"


def test_a_reconciled_transactions_splits_and_account_refuse_changes(client: APIClient, books: dict[str, Any]) -> None:
    url = f"/api/v1/transactions/{books['tx']['id']}/"
    splits = [
        {"category": books["food"]["id"], "amount": "-20.00"},
        {"category": books["fun"]["id"], "amount": "-10.00"},
    ]
    assert client.patch(url, {"splits": splits}).status_code == 409
    assert client.patch(url, {"account": books["savings"]["id"]}).status_code == 409
    assert (
        client.put(
            url, {"account": books["account"]["id"], "date": "2024-02-01", "amount": "-30.00", "payee": "x"}
        ).status_code
        == 409
    )


def test_a_reconciled_transaction_refuses_deletion_with_409(client: APIClient, books: dict[str, Any]) -> None:
    assert client.delete(f"/api/v1/transactions/{books['tx']['id']}/").status_code == 409
    assert Transaction.objects.filter(pk=books["tx"]["id"]).exists()


def test_an_unchanged_save_of_a_reconciled_transaction_is_harmless(client: APIClient, books: dict[str, Any]) -> None:
    response = client.patch(f"/api/v1/transactions/{books['tx']['id']}/", {"amount": "-30.00"})
    assert response.status_code == 200
    assert response.json()["status"] == "reconciled"


def test_unreconcile_then_edit_succeeds(client: APIClient, books: dict[str, Any]) -> None:
    url = f"/api/v1/transactions/{books['tx']['id']}/"
    response = client.post(f"{url}unreconcile/")
    assert response.status_code == 200
    assert response.json()["status"] == "cleared"
    patched = client.patch(url, {"amount": "-31.00", "splits": [{"category": books["food"]["id"], "amount": "-31.00"}]})
    assert patched.status_code == 200, patched.content
    assert client.delete(url).status_code == 204


def test_unreconciling_a_cleared_transaction_changes_nothing(client: APIClient, books: dict[str, Any]) -> None:
    tx = client.post(
        "/api/v1/transactions/", {"account": books["account"]["id"], "date": "2024-03-01", "amount": "-1.00"}
    ).json()
    response = client.post(f"/api/v1/transactions/{tx['id']}/unreconcile/")
    assert (response.status_code, response.json()["status"]) == (200, "cleared")


def test_a_transfer_with_a_reconciled_side_refuses_deletion(client: APIClient, books: dict[str, Any]) -> None:
    transfer = client.post(
        "/api/v1/transfers/",
        {
            "from_account": books["account"]["id"],
            "to_account": books["savings"]["id"],
            "date": "2024-03-01",
            "amount": "5.00",
        },
    ).json()
    assert (
        client.post(
            f"/api/v1/accounts/{books['savings']['id']}/reconcile/",
            {"statement_date": "2024-03-31", "statement_balance": "5.00"},
        ).status_code
        == 201
    )
    assert client.delete(f"/api/v1/transfers/{transfer['id']}/").status_code == 409
    for side in transfer["transactions"]:
        assert client.delete(f"/api/v1/transactions/{side}/").status_code == 409
        assert client.patch(f"/api/v1/transactions/{side}/", {"date": "2024-03-02"}).status_code == 409
    assert Transaction.objects.filter(transfer_id=transfer["id"]).count() == 2


def test_a_statement_that_does_not_match_is_a_409_with_the_difference(client: APIClient, books: dict[str, Any]) -> None:
    client.post("/api/v1/transactions/", {"account": books["account"]["id"], "date": "2024-03-05", "amount": "-12.50"})
    response = client.post(
        f"/api/v1/accounts/{books['account']['id']}/reconcile/",
        {"statement_date": "2024-03-31", "statement_balance": "60.00"},
    )
    assert response.status_code == 409
    assert "difference 2.50" in response.json()["detail"]
    assert Reconciliation.objects.count() == 1
    matching = client.post(
        f"/api/v1/accounts/{books['account']['id']}/reconcile/",
        {"statement_date": "2024-03-31", "statement_balance": "57.50"},
    )
    assert (matching.status_code, matching.json()["reconciled_transactions"]) == (201, 1)


def test_pending_rows_are_not_reconciled(client: APIClient, books: dict[str, Any]) -> None:
    pending = client.post(
        "/api/v1/transactions/",
        {"account": books["account"]["id"], "date": "2024-03-05", "amount": "-1.00", "status": "pending"},
    ).json()
    response = client.post(
        f"/api/v1/accounts/{books['account']['id']}/reconcile/",
        {"statement_date": "2024-03-31", "statement_balance": "70.00"},
    )
    assert response.status_code == 201
    assert Transaction.objects.get(pk=pending["id"]).status == "pending"
    assert client.patch(f"/api/v1/transactions/{pending['id']}/", {"status": "reconciled"}).status_code == 400
