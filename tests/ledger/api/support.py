"""Helpers of the ledger API tests: one-line creates and reads that assert success."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    return response.json()


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def account(client: APIClient, name: str = "Checking", **extra: Any) -> dict[str, Any]:
    return created(
        client.post("/api/v1/accounts/", {"name": name, "currency": "EUR", "opening_date": "2024-01-01", **extra})
    )


def category(client: APIClient, name: str, **extra: Any) -> dict[str, Any]:
    return created(client.post("/api/v1/categories/", {"name": name, **extra}))


def post_transaction(client: APIClient, account_id: int, **extra: Any) -> Any:
    """The response to creating a transaction on 2024-02-01 of -1.00, unless `extra` says otherwise."""
    return client.post(
        "/api/v1/transactions/", {"account": account_id, "date": "2024-02-01", "amount": "-1.00", **extra}
    )


def transaction(client: APIClient, account_id: int, **extra: Any) -> dict[str, Any]:
    return created(post_transaction(client, account_id, **extra))


def all_pages(client: APIClient, url: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = ok(client.get(url))
    previous_seen = page["previous"]
    assert previous_seen is None
    while True:
        rows.extend(page["results"])
        if not page["next"]:
            return rows
        page = ok(client.get(page["next"]))
        assert page["previous"]
