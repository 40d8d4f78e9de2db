"""Create, read, update and delete every ledger resource through /api/v1/, as its owner would."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
import yaml
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from ledger.models import ApiToken, Household, Membership, Role, Transaction, Transfer, User
from ledger.services.tokens import api_token_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def client(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(owner)


def created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.content
    return response.json()  # type: ignore[no-any-return]


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.content
    return response.json()


def account(client: APIClient, name: str = "Checking", **extra: Any) -> dict[str, Any]:
    return created(
        client.post("/api/v1/accounts/", {"name": name, "currency": "EUR", "opening_date": "2024-01-01", **extra})
    )


def transaction(client: APIClient, account_id: int, **extra: Any) -> dict[str, Any]:
    return created(
        client.post("/api/v1/transactions/", {"account": account_id, "date": "2024-02-01", "amount": "-1.00", **extra})
    )


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


# --- Households and members ----------------------------------------------------------------------


def test_households_list_create_update_delete(client: APIClient, owner: User, household: Household) -> None:
    listed = ok(client.get("/api/v1/households/"))["results"]
    assert [row["id"] for row in listed] == [household.pk]
    assert listed[0]["role"] == "owner"
    assert listed[0]["members"][0]["username"] == owner.username

    new = created(
        client.post(
            "/api/v1/households/", {"name": "Holiday home", "base_currency": "CHF", "budget_month_start_day": 25}
        )
    )
    assert (new["role"], new["base_currency"], new["budget_month_start_day"]) == ("owner", "CHF", 25)
    assert ok(client.patch(f"/api/v1/households/{new['id']}/", {"name": "Chalet"}))["name"] == "Chalet"
    assert client.patch(f"/api/v1/households/{new['id']}/", {"budget_month_start_day": 29}).status_code == 400
    assert client.patch(f"/api/v1/households/{new['id']}/", {"base_currency": "XXX"}).status_code == 400
    assert client.delete(f"/api/v1/households/{new['id']}/").status_code == 204
    assert not Household.objects.filter(pk=new["id"]).exists()


def test_deleting_a_household_deletes_its_books(client: APIClient, household: Household) -> None:
    checking, savings = account(client, "Checking"), account(client, "Savings")
    transaction(client, checking["id"])
    created(
        client.post(
            "/api/v1/transfers/",
            {"from_account": checking["id"], "to_account": savings["id"], "date": "2024-02-01", "amount": "5.00"},
        )
    )
    created(
        client.post(
            f"/api/v1/accounts/{checking['id']}/reconcile/",
            {"statement_date": "2024-02-01", "statement_balance": "-6.00"},
        )
    )
    assert client.delete(f"/api/v1/households/{household.pk}/").status_code == 204
    assert not Transaction.objects.exists()


def test_members_join_by_invitation_change_role_and_are_removed(
    client: APIClient, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    friend = UserFactory(username="fred")
    invitation = created(
        client.post(f"/api/v1/households/{household.pk}/invitations/", {"invitee": "fred", "role": "viewer"})
    )
    assert not Membership.objects.filter(user=friend, household=household).exists()
    joined = ok(client_for(friend).post(f"/api/v1/invitations/{invitation['id']}/accept/"))
    assert (joined["username"], joined["role"]) == ("fred", "viewer")
    changed = ok(client.patch(f"/api/v1/households/{household.pk}/members/{joined['id']}/", {"role": "editor"}))
    assert changed["id"] == joined["id"]
    assert Membership.objects.get(user=friend, household=household).role == Role.EDITOR
    assert client.delete(f"/api/v1/households/{household.pk}/members/{joined['id']}/").status_code == 204
    assert not Membership.objects.filter(user=friend, household=household).exists()


def test_member_changes_refuse_unknown_members_and_roles(client: APIClient, owner: User, household: Household) -> None:
    mine = Membership.objects.get(user=owner, household=household)
    assert client.patch(f"/api/v1/households/{household.pk}/members/{mine.pk}/", {"role": "admin"}).status_code == 400
    assert client.patch(f"/api/v1/households/{household.pk}/members/999999999/", {"role": "owner"}).status_code == 404
    assert client.delete(f"/api/v1/households/{household.pk}/members/999999999/").status_code == 404
    assert (
        client.post(f"/api/v1/households/{household.pk}/invitations/", {"invitee": "fred", "role": "admin"}).status_code
        == 400
    )


def test_the_last_owner_cannot_leave_or_step_down(client: APIClient, owner: User, household: Household) -> None:
    mine = Membership.objects.get(user=owner, household=household)
    assert client.patch(f"/api/v1/households/{household.pk}/members/{mine.pk}/", {"role": "viewer"}).status_code == 409
    assert client.delete(f"/api/v1/households/{household.pk}/members/{mine.pk}/").status_code == 409
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_a_member_may_leave_a_household(
    editor: User, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    membership = Membership.objects.get(user=editor, household=household)
    assert client_for(editor).delete(f"/api/v1/households/{household.pk}/members/{membership.pk}/").status_code == 204


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
    assert (
        client.post(
            "/api/v1/transactions/",
            {"account": checking["id"], "date": "2024-02-01", "amount": "-1.00", "status": "reconciled"},
        ).status_code
        == 400
    )
    response = client.post(
        "/api/v1/transactions/",
        {
            "account": checking["id"],
            "date": "2024-02-01",
            "amount": "-1.00",
            "splits": [{"category": food["id"], "amount": "-0.50"}],
        },
    )
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


# --- Authentication ------------------------------------------------------------------------------


def test_a_password_buys_a_token_that_works(api_client: APIClient, owner: User) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD, "name": "laptop"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert ApiToken.objects.get(user=owner, name="laptop").key_hash != token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/accounts/").status_code == 200


def test_a_wrong_password_is_a_401(api_client: APIClient, owner: User) -> None:
    response = api_client.post("/api/v1/auth/token/", {"username": owner.username, "password": "wrong"})
    assert response.status_code == 401
    assert "token" not in response.json()
    assert api_client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}).status_code == 401


def test_token_requests_are_throttled(api_client: APIClient, owner: User) -> None:
    # Distinct usernames: the per-address rate, not the per-account lockout (tests/ops/test_login_protection.py).
    statuses = [
        api_client.post("/api/v1/auth/token/", {"username": f"guess{n}", "password": "wrong"}).status_code
        for n in range(10)
    ]
    assert statuses == [401] * 10
    assert api_client.post("/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD}).status_code == 429


def test_requests_without_a_valid_token_are_a_401(api_client: APIClient, owner: User) -> None:
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer ft_not-a-real-token")
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert api_client.get("/api/v1/accounts/").status_code == 401


def test_create_api_token_prints_a_secret_that_works_until_revoked(api_client: APIClient, owner: User) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", owner.username, "--name", "cron", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert secret.startswith("ft_")
    assert secret not in err.getvalue()
    token = ApiToken.objects.get(user=owner, name="cron")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.get("/api/v1/households/").status_code == 200
    api_token_revoke(token=token)
    assert api_client.get("/api/v1/households/").status_code == 401


def test_create_api_token_fails_for_an_unknown_or_inactive_person(owner: User) -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody")
    owner.is_active = False
    owner.save()
    with pytest.raises(CommandError):
        call_command("create_api_token", owner.username)
    with pytest.raises(CommandError):
        call_command("create_api_token", UserFactory().username, "--name", " ")
    assert not ApiToken.objects.exists()


def test_create_api_token_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("create_api_token", "--help")
    assert exit_info.value.code == 0
    assert "USERNAME" in capsys.readouterr().out.upper()


# --- Schema and docs -----------------------------------------------------------------------------


def test_the_openapi_schema_is_valid_yaml_and_json(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/transactions/" in schema["paths"]
    as_json = api_client.get("/api/v1/schema/?format=json")
    assert as_json.status_code == 200
    assert json.loads(as_json.content)["info"]["title"] == schema["info"]["title"]


def test_the_api_docs_load_nothing_from_a_cdn(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), html
