"""Transactions through /api/v1/transactions/: CRUD with splits and tags, filters, ordering, cursor pages."""

from __future__ import annotations

from typing import Any

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


@pytest.fixture
def register(client: APIClient) -> dict[str, Any]:
    checking, savings = account(client, "Checking"), account(client, "Savings")
    food = created(client.post("/api/v1/categories/", {"name": "Food"}))
    groceries = created(client.post("/api/v1/categories/", {"name": "Groceries", "parent": food["id"]}))
    fun = created(client.post("/api/v1/categories/", {"name": "Fun"}))
    tag = created(client.post("/api/v1/tags/", {"name": "weekend"}))
    rows = {
        "coffee": transaction(
            client, checking["id"], date="2024-01-05", amount="-3.50", payee="Corner Café", category=food["id"]
        ),
        "market": transaction(
            client,
            checking["id"],
            date="2024-02-10",
            amount="-42.00",
            payee="Market",
            category=groceries["id"],
            tags=[tag["id"]],
        ),
        "salary": transaction(
            client, savings["id"], date="2024-02-25", amount="2500.00", payee="Employer", description="February pay"
        ),
        "cinema": transaction(
            client,
            checking["id"],
            date="2024-03-01",
            amount="-20.00",
            payee="Cinema",
            status="pending",
            splits=[{"category": fun["id"], "amount": "-15.00"}, {"category": food["id"], "amount": "-5.00"}],
        ),
    }
    return {
        "checking": checking,
        "savings": savings,
        "food": food,
        "groceries": groceries,
        "fun": fun,
        "tag": tag,
        "rows": rows,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["cinema", "salary", "market", "coffee"]),
        ("account={checking}", ["cinema", "market", "coffee"]),
        ("category={food}", ["cinema", "market", "coffee"]),
        ("category={groceries}", ["market"]),
        ("category={fun}", ["cinema"]),
        ("date_after=2024-02-10", ["cinema", "salary", "market"]),
        ("date_before=2024-02-10", ["market", "coffee"]),
        ("date_after=2024-02-01&date_before=2024-02-28", ["salary", "market"]),
        ("min_amount=-20", ["cinema", "salary", "coffee"]),
        ("max_amount=-20.00", ["cinema", "market"]),
        ("min_amount=0&max_amount=10000", ["salary"]),
        ("status=pending", ["cinema"]),
        ("status=cleared", ["salary", "market", "coffee"]),
        ("tag={tag}", ["market"]),
        ("search=café", ["coffee"]),
        ("search=FEBRUARY", ["salary"]),
        ("search=%25", []),
        ("ordering=amount", ["market", "cinema", "coffee", "salary"]),
        ("ordering=-amount", ["salary", "coffee", "cinema", "market"]),
        ("ordering=date", ["coffee", "market", "salary", "cinema"]),
    ],
)
def test_transaction_filters_and_ordering(
    client: APIClient, register: dict[str, Any], query: str, expected: list[str]
) -> None:
    ids = {key: value["id"] for key, value in register.items() if isinstance(value, dict) and "id" in value}
    names = {row["id"]: name for name, row in register["rows"].items()}
    results = ok(client.get("/api/v1/transactions/?" + query.format(**ids)))["results"]
    assert [names[row["id"]] for row in results] == expected


@pytest.mark.parametrize(
    "query",
    [
        "account=abc",
        "category=x",
        "date_after=2024-13-01",
        "min_amount=NaN",
        "max_amount=1e999",
        "status=void",
        "tag=[]",
    ],
)
def test_bad_transaction_filters_are_a_400(client: APIClient, register: dict[str, Any], query: str) -> None:
    assert client.get("/api/v1/transactions/?" + query).status_code == 400


@pytest.mark.parametrize(
    "query", ["account=99999999999999999999999", "category=-1", "tag=0", "ordering=payee", "ordering=household__name"]
)
def test_odd_but_harmless_filters_answer_without_error(client: APIClient, register: dict[str, Any], query: str) -> None:
    assert client.get("/api/v1/transactions/?" + query).status_code in (200, 400)


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
