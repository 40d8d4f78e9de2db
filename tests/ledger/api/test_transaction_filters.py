"""Filters and ordering of /api/v1/transactions/ on one register of accounts, categories, a tag and rows in
every status, each query's rows named and compared in order; bad filters are a 400."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.services.tokens import api_token_create
from tests.conftest import People, person_made_once
from tests.ledger.api.support import account, created, ok, transaction

pytestmark = pytest.mark.django_db


owner = person_made_once("owner")


@pytest.fixture(scope="module")
def register_once(people_once: People) -> dict[str, Any]:
    """The owner's register, written through the API once for this module (tests/conftest.py people_once): its
    tests only read it."""
    _token, secret = api_token_create(user=people_once.owner, name="register")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return write_register(client)


@pytest.fixture
def register(db: None, register_once: dict[str, Any]) -> dict[str, Any]:
    return register_once


def write_register(client: APIClient) -> dict[str, Any]:
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
