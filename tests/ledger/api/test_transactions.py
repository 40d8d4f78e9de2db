"""Transactions through /api/v1/transactions/: CRUD with splits and tags, cursor pages (filters and ordering on
a register: test_transaction_filters.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from ledger.models import Transaction
from tests.ledger.api.support import account, all_pages, created, ok, post_transaction, transaction

pytestmark = pytest.mark.django_db


# --- Transactions --------------------------------------------------------------------------------


def test_transactions_crud_with_splits_and_tags(client: APIClient) -> None:
    checking = account(client)
    food = created(client.post("/api/v1/categories/", {"name": "Food"}))
    fun = created(client.post("/api/v1/categories/", {"name": "Fun"}))
    tag = created(client.post("/api/v1/tags/", {"name": "weekend"}))
    new = transaction(
        client,
        checking["id"],
        amount="-30.00",
        payee="Market",
        tags=[tag["id"]],
        splits=[
            {"category": food["id"], "amount": "-20.00"},
            {"category": fun["id"], "amount": "-10.00", "memo": "cake"},
        ],
    )
    assert (new["currency"], new["tags"], new["category"]) == ("EUR", [tag["id"]], None)
    assert [(line["category"], line["amount"], line["memo"]) for line in new["splits"]] == [
        (food["id"], "-20.00", ""),
        (fun["id"], "-10.00", "cake"),
    ]
    url = f"/api/v1/transactions/{new['id']}/"
    assert ok(client.get(url))["payee"] == "Market"
    bad = client.patch(url, {"amount": "-31.00"})
    assert bad.status_code == 400
    assert "splits" in bad.json()
    patched = ok(
        client.patch(url, {"amount": "-31.00", "splits": [{"category": food["id"], "amount": "-31.00"}], "tags": []})
    )
    assert (patched["amount"], len(patched["splits"]), patched["tags"]) == ("-31.00", 1, [])
    unsplit = ok(client.patch(url, {"splits": [], "category": fun["id"]}))
    assert (unsplit["splits"], unsplit["category"]) == ([], fun["id"])
    put = ok(client.put(url, {"account": checking["id"], "date": "2024-03-01", "amount": "5.00", "status": "pending"}))
    assert (put["date"], put["amount"], put["status"]) == ("2024-03-01", "5.00", "pending")
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_transaction_create_refuses_a_reconciled_status_and_bad_splits(client: APIClient) -> None:
    checking = account(client)
    food = created(client.post("/api/v1/categories/", {"name": "Food"}))
    assert post_transaction(client, checking["id"], status="reconciled").status_code == 400
    response = post_transaction(client, checking["id"], splits=[{"category": food["id"], "amount": "-0.50"}])
    assert response.status_code == 400
    assert "splits" in response.json()


@pytest.mark.parametrize(
    "ordering", ["", "&ordering=date", "&ordering=-date", "&ordering=amount", "&ordering=-amount", "&ordering=id"]
)
def test_cursor_pages_have_no_duplicates_and_miss_no_rows(client: APIClient, ordering: str) -> None:
    checking = account(client)
    # Many rows share one date and one amount, the hard case for a cursor.
    for index in range(23):
        transaction(
            client, checking["id"], date=f"2024-02-{1 + index % 3:02d}", amount="-1.00" if index % 2 else "-2.00"
        )
    rows = all_pages(client, f"/api/v1/transactions/?page_size=5{ordering}")
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 23
    assert set(ids) == set(Transaction.objects.values_list("id", flat=True))


def test_cursor_pages_walk_backwards_too(client: APIClient) -> None:
    checking = account(client)
    for index in range(12):
        transaction(client, checking["id"], date=f"2024-02-{1 + index:02d}")
    first = ok(client.get("/api/v1/transactions/?page_size=5"))
    second = ok(client.get(first["next"]))
    back = ok(client.get(second["previous"]))
    assert [row["id"] for row in back["results"]] == [row["id"] for row in first["results"]]


def test_a_forged_cursor_never_errors(client: APIClient) -> None:
    for cursor in ("bm9wZQ%3D%3D", "!!!", "cD0yMDI0LTAxLTAx", "bz05OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk%3D", "cD0lMDA%3D"):
        assert client.get(f"/api/v1/transactions/?cursor={cursor}").status_code in (200, 400, 404)
        assert client.get(f"/api/v1/transactions/?ordering=amount&cursor={cursor}").status_code in (200, 400, 404)
