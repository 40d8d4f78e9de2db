"""Money is exact: decimal strings in and out of the API, each currency's places, never a float."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from financetracker.core.money import format_amount, parse_amount
from ledger.models import Transaction, User
from tests.ledger.api.support import category, transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(owner)


def make_account(client: APIClient, currency: str = "EUR", **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/accounts/",
        {"name": f"{currency} account", "currency": currency, "opening_date": "2024-01-01", **extra},
    )
    assert response.status_code == 201, response.json()
    return response.json()


def post_raw(client: APIClient, url: str, body: str) -> Any:
    return client.generic("POST", url, body, content_type="application/json")


def test_ten_cents_plus_twenty_cents_is_thirty_cents_in_a_balance(client: APIClient) -> None:
    account = make_account(client)
    for amount in ("0.10", "0.20"):
        response = client.post(
            "/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": amount}
        )
        assert response.status_code == 201, response.json()
    assert client.get(f"/api/v1/accounts/{account['id']}/").json()["balance"] == "0.30"
    balance = client.get(f"/api/v1/accounts/{account['id']}/balance/?as_of=2024-02-01").json()
    assert balance["balance"] == "0.30"
    assert sum(Transaction.objects.values_list("amount", flat=True), Decimal(0)) == Decimal("0.30")


def test_three_decimal_places_are_refused_for_euros(client: APIClient) -> None:
    account = make_account(client)
    response = client.post(
        "/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": "12.345"}
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    assert not Transaction.objects.exists()


def test_yen_take_no_decimal_places(client: APIClient) -> None:
    account = make_account(client, "JPY")
    ok = client.post("/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": "100"})
    assert ok.status_code == 201, ok.json()
    assert ok.json()["amount"] == "100"
    refused = client.post("/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": "100.5"})
    assert refused.status_code == 400
    assert "amount" in refused.json()


def test_an_opening_balance_with_too_many_places_is_refused(client: APIClient) -> None:
    response = client.post(
        "/api/v1/accounts/", {"name": "Yen", "currency": "JPY", "opening_date": "2024-01-01", "opening_balance": "1.5"}
    )
    assert response.status_code == 400
    assert "opening_balance" in response.json()


HOSTILE_AMOUNTS = [
    '"1e3"',
    '"1E3"',
    '"NaN"',
    '"nan"',
    '"Infinity"',
    '"-Infinity"',
    '"inf"',
    '""',
    '" "',
    "12.3",
    "true",
    "false",
    "null",
    "[]",
    "{}",
    '["1.00"]',
    '{"amount": "1.00"}',
    '"1,000.00"',
    '"12,30"',
    '"0x10"',
    '"1_000"',
    '"١٢"',
    '"--1"',
    '"1.2.3"',
    '"1000000000000000"',
    '"-1000000000000000"',
    '"' + "9" * 400 + '"',
    "1" + "0" * 30,
    '"0.' + "0" * 300 + '1"',
]


@pytest.mark.parametrize("raw", HOSTILE_AMOUNTS)
def test_hostile_amounts_are_refused_with_a_field_message(client: APIClient, raw: str) -> None:
    account = make_account(client)
    body = f'{{"account": {account["id"]}, "date": "2024-02-01", "amount": {raw}}}'
    response = post_raw(client, "/api/v1/transactions/", body)
    assert response.status_code == 400, response.content
    messages = response.json()["amount"]
    assert isinstance(messages, list) and all(isinstance(message, str) and message for message in messages)
    assert not Transaction.objects.exists()


@pytest.mark.parametrize("raw", ['"NaN"', "12.3", '"1e3"', "true", '"' + "9" * 400 + '"'])
def test_hostile_opening_balances_and_statement_balances_are_refused(client: APIClient, raw: str) -> None:
    body = f'{{"name": "A", "currency": "EUR", "opening_date": "2024-01-01", "opening_balance": {raw}}}'
    response = post_raw(client, "/api/v1/accounts/", body)
    assert response.status_code == 400
    assert "opening_balance" in response.json()
    account = make_account(client)
    body = f'{{"statement_date": "2024-01-31", "statement_balance": {raw}}}'
    response = post_raw(client, f"/api/v1/accounts/{account['id']}/reconcile/", body)
    assert response.status_code == 400
    assert "statement_balance" in response.json()


@pytest.mark.parametrize("raw", ['"NaN"', "12.3", '"1e3"', "[]", '"5.001"'])
def test_hostile_transfer_amounts_are_refused(client: APIClient, raw: str) -> None:
    first, second = make_account(client), make_account(client, "USD")
    for field in ("amount", "to_amount"):
        payload = {"from_account": first["id"], "to_account": second["id"], "date": "2024-02-01", "amount": "5.00"}
        payload["to_amount"] = "5.00"
        values = {key: json.dumps(value) for key, value in payload.items()}
        values[field] = raw
        body = "{" + ", ".join(f'"{key}": {value}' for key, value in values.items()) + "}"
        response = post_raw(client, "/api/v1/transfers/", body)
        assert response.status_code == 400, response.content
        assert field in response.json()


def test_the_largest_amount_a_person_may_enter_round_trips(client: APIClient) -> None:
    account = make_account(client)
    response = client.post(
        "/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": "-999999999999.99"}
    )
    assert response.status_code == 201, response.json()
    assert response.json()["amount"] == "-999999999999.99"


def test_an_amount_past_the_bound_is_refused_with_a_field_message(client: APIClient) -> None:
    account = make_account(client)
    response = client.post(
        "/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": "-1000000000000.00"}
    )
    assert response.status_code == 400
    assert "at most 12 digits" in response.json()["amount"][0]


@pytest.mark.parametrize(
    ("currency", "sent", "shown"),
    [
        ("EUR", "-12.3", "-12.30"),
        ("EUR", "+5", "5.00"),
        ("JPY", "100", "100"),
        ("KWD", "1.25", "1.250"),
        ("CLF", "1", "1.0000"),
    ],
)
def test_amounts_come_back_as_strings_with_the_currencys_places(
    client: APIClient, currency: str, sent: str, shown: str
) -> None:
    account = make_account(client, currency, opening_balance=sent)
    assert account["opening_balance"] == shown
    assert account["balance"] == shown
    created = client.post(
        "/api/v1/transactions/", {"account": account["id"], "date": "2024-02-01", "amount": sent}
    ).json()
    assert created["amount"] == shown
    listed = client.get(f"/api/v1/transactions/?account={account['id']}").json()["results"][0]
    assert listed["amount"] == shown
    assert isinstance(json.loads(json.dumps(listed))["amount"], str)


def test_split_amounts_come_back_with_the_currencys_places(client: APIClient) -> None:
    account = make_account(client)
    food = category(client, "Food")
    created = transaction(client, account["id"], amount="-12.3", splits=[{"category": food["id"], "amount": "-12.3"}])
    assert created["splits"][0]["amount"] == "-12.30"


def test_parse_amount_and_format_amount_agree() -> None:
    assert parse_amount(" -12.30 ") == Decimal("-12.30")
    assert parse_amount(Decimal("1.5")) == Decimal("1.5")
    assert parse_amount(7) == Decimal(7)
    assert format_amount(Decimal("-12.3"), "EUR") == "-12.30"
    assert format_amount(Decimal("1.25"), "KWD") == "1.250"
    assert format_amount(Decimal("100"), "JPY") == "100"
