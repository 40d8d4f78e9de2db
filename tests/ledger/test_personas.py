"""Who may do what: owners and editors write, viewers read, outsiders see nothing — and nobody gets a 500."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Account, Category, Household, Membership, Tag, Transaction, User
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
from tests.conftest import People, person_made_once
from tests.factories import books_for

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 2, 1)


@dataclass
class Books:
    """The shared books (tests.factories.books_for) with rows in every state the API distinguishes."""

    household: Household
    account: Account
    other_account: Account
    category: Category
    tag: Tag
    transaction: Transaction
    reconciled: Transaction
    transfer_id: int
    membership: Membership


def make_books(household: Household, prefix: str = "") -> Books:
    shared = books_for(household, prefix=prefix, opened=DAY)
    account, other, category, tag = shared.checking, shared.savings, shared.food, shared.holiday
    reconciled = transaction_create(account=other, date=DAY, amount="-1.00")
    account_reconcile(account=other, statement_date=DAY, statement_balance="-1.00")
    reconciled.refresh_from_db()
    tx = transaction_create(
        account=account,
        date=DAY,
        amount="-10.00",
        tags=[tag],
        splits=[SplitLine(category=category, amount=Decimal("-10.00"))],
    )
    transfer = transfer_create(from_account=account, to_account=other, date=DAY, amount="5.00", status="pending")
    membership = Membership.objects.filter(household=household).order_by("id").first()
    assert membership is not None
    return Books(household, account, other, category, tag, tx, reconciled, transfer.pk, membership)


owner = person_made_once("owner")
editor = person_made_once("editor")
viewer = person_made_once("viewer")
outsider = person_made_once("outsider")


@pytest.fixture(scope="module")
def both_books(people_once: People) -> tuple[Books, Books]:
    """Our books and the outsider's, made once for this module (tests/conftest.py people_once); what a test
    writes to them is rolled back after it."""
    ours = make_books(Household.objects.get(memberships__user=people_once.owner))
    return ours, make_books(Household.objects.get(memberships__user=people_once.outsider), prefix="Their ")


@pytest.fixture
def ours(db: None, both_books: tuple[Books, Books]) -> Books:
    return both_books[0]


@pytest.fixture
def theirs(db: None, both_books: tuple[Books, Books]) -> Books:
    return both_books[1]


def object_urls(b: Books) -> dict[str, str]:
    return {
        "household": f"/api/v1/households/{b.household.pk}/",
        "account": f"/api/v1/accounts/{b.account.pk}/",
        "category": f"/api/v1/categories/{b.category.pk}/",
        "tag": f"/api/v1/tags/{b.tag.pk}/",
        "transaction": f"/api/v1/transactions/{b.transaction.pk}/",
        "transfer": f"/api/v1/transfers/{b.transfer_id}/",
    }


def write_requests(b: Books) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, url, body) for every write on `b`'s household: creates, updates, deletes and actions."""
    urls = object_urls(b)
    hh = b.household.pk
    return [
        (
            "post",
            "/api/v1/accounts/",
            {"household": hh, "name": "New", "currency": "EUR", "opening_date": "2024-01-01"},
        ),
        ("post", "/api/v1/categories/", {"household": hh, "name": "New"}),
        ("post", "/api/v1/tags/", {"household": hh, "name": "new"}),
        ("post", "/api/v1/transactions/", {"account": b.account.pk, "date": "2024-02-02", "amount": "-1.00"}),
        (
            "post",
            "/api/v1/transfers/",
            {"from_account": b.account.pk, "to_account": b.other_account.pk, "date": "2024-02-02", "amount": "1.00"},
        ),
        ("put", urls["household"], {"name": "Renamed", "base_currency": "EUR", "budget_month_start_day": 1}),
        ("patch", urls["household"], {"name": "Renamed"}),
        ("put", urls["account"], {"name": "Renamed", "currency": "EUR", "opening_date": "2024-01-01"}),
        ("patch", urls["account"], {"name": "Renamed"}),
        ("put", urls["category"], {"name": "Renamed"}),
        ("patch", urls["category"], {"name": "Renamed"}),
        ("put", urls["tag"], {"name": "renamed"}),
        ("patch", urls["tag"], {"name": "renamed"}),
        ("put", urls["transaction"], {"account": b.account.pk, "date": "2024-02-02", "amount": "-10.00"}),
        ("patch", urls["transaction"], {"payee": "Renamed"}),
        ("post", f"{urls['account']}reconcile/", {"statement_date": "2024-02-01", "statement_balance": "0.00"}),
        ("post", f"/api/v1/transactions/{b.reconciled.pk}/unreconcile/", {}),
        ("post", f"{urls['household']}invitations/", {"invitee": "someone", "role": "viewer"}),
        ("patch", f"{urls['household']}members/{b.membership.pk}/", {"role": "editor"}),
        ("delete", f"{urls['household']}members/{b.membership.pk}/", {}),
        ("delete", urls["transfer"], {}),
        ("delete", urls["transaction"], {}),
        ("delete", urls["tag"], {}),
        ("delete", urls["category"], {}),
        ("delete", urls["account"], {}),
        ("delete", urls["household"], {}),
    ]


def send(client: APIClient, method: str, url: str, body: Any = None) -> Any:
    if body is None or method == "get":
        return getattr(client, method)(url)
    return getattr(client, method)(url, body, format="json")


# --- Reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "editor", "viewer"])
def test_members_read_every_object_and_list(
    request: pytest.FixtureRequest, ours: Books, persona: str, client_for: Any
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for url in [*object_urls(ours).values(), f"/api/v1/accounts/{ours.account.pk}/balance/"]:
        assert client.get(url).status_code == 200, url
    listed = client.get(f"/api/v1/transactions/?household={ours.household.pk}").json()["results"]
    assert {row["id"] for row in listed} >= {ours.transaction.pk, ours.reconciled.pk}


# --- Writing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "editor"])
def test_owners_and_editors_create_update_and_delete(
    request: pytest.FixtureRequest, ours: Books, persona: str, client_for: Any
) -> None:
    client = client_for(request.getfixturevalue(persona))
    for method, url, body in write_requests(ours):
        if "/households/" in url or "/members/" in url:
            continue  # the household itself is the owners' (below)
        response = send(client, method, url, body)
        # 409: allowed, but the books refuse (an account or category still in use) — never a 403.
        assert response.status_code in (200, 201, 204, 409), (method, url, response.content)


def test_only_owners_manage_the_household_and_its_members(ours: Books, editor: User, client_for: Any) -> None:
    editor_client = client_for(editor)
    urls = object_urls(ours)
    assert editor_client.patch(urls["household"], {"name": "Mine now"}, format="json").status_code == 403
    assert (
        editor_client.post(
            f"{urls['household']}invitations/", {"invitee": "eddie", "role": "owner"}, format="json"
        ).status_code
        == 403
    )
    assert (
        editor_client.patch(
            f"{urls['household']}members/{ours.membership.pk}/", {"role": "viewer"}, format="json"
        ).status_code
        == 403
    )
    assert editor_client.delete(f"{urls['household']}members/{ours.membership.pk}/").status_code == 403
    assert editor_client.delete(urls["household"]).status_code == 403
    assert Household.objects.get(pk=ours.household.pk).name == ours.household.name


def test_viewers_get_403_on_every_write(ours: Books, viewer: User, client_for: Any) -> None:
    client = client_for(viewer)
    before = Transaction.objects.count()
    for method, url, body in write_requests(ours):
        response = send(client, method, url, body)
        assert response.status_code == 403, (method, url, response.status_code, response.content)
    assert Transaction.objects.count() == before
    assert Transaction.objects.get(pk=ours.reconciled.pk).status == "reconciled"


def test_anyone_may_leave_a_household(ours: Books, viewer: User, client_for: Any) -> None:
    mine = Membership.objects.get(user=viewer, household=ours.household)
    assert client_for(viewer).delete(f"/api/v1/households/{ours.household.pk}/members/{mine.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=mine.pk).exists()


# --- Outsiders -----------------------------------------------------------------------------------


def test_outsiders_get_404_on_every_object_url(ours: Books, outsider: User, client_for: Any) -> None:
    client = client_for(outsider)
    for url in [*object_urls(ours).values(), f"/api/v1/accounts/{ours.account.pk}/balance/"]:
        assert client.get(url).status_code == 404, url
    for method, url, body in write_requests(ours):
        if url.endswith("s/") and method == "post" and "/households/" not in url:
            continue  # creates on a list URL: see the 400 test below
        response = send(client, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code, response.content)
    assert Transaction.objects.filter(household=ours.household).count() == 4


def test_outsiders_see_nothing_in_lists(ours: Books, outsider: User, client_for: Any) -> None:
    client = client_for(outsider)
    for resource in ("households", "accounts", "categories", "tags", "transactions", "transfers"):
        rows = client.get(f"/api/v1/{resource}/").json()["results"]
        assert all(row.get("household", row["id"]) != ours.household.pk for row in rows), resource
        if resource == "households":
            continue
        filtered = client.get(f"/api/v1/{resource}/?household={ours.household.pk}")
        assert filtered.status_code in (200, 400)
        if filtered.status_code == 200:
            assert len(filtered.json()["results"]) == 0, resource
    for query in (f"account={ours.account.pk}", f"category={ours.category.pk}", f"tag={ours.tag.pk}"):
        assert client.get(f"/api/v1/transactions/?{query}").json()["results"] == []


def test_outsiders_cannot_reference_another_households_rows(
    ours: Books, theirs: Books, outsider: User, client_for: Any
) -> None:
    client = client_for(outsider)
    own = {"account": theirs.account.pk, "date": "2024-02-02", "amount": "-1.00"}
    bodies = [
        ("post", "/api/v1/transactions/", {**own, "account": ours.account.pk}, "account"),
        ("post", "/api/v1/transactions/", {**own, "category": ours.category.pk}, "category"),
        ("post", "/api/v1/transactions/", {**own, "tags": [ours.tag.pk]}, "tags"),
        (
            "post",
            "/api/v1/transactions/",
            {**own, "splits": [{"category": ours.category.pk, "amount": "-1.00"}]},
            "splits",
        ),
        ("patch", f"/api/v1/transactions/{theirs.transaction.pk}/", {"account": ours.account.pk}, "account"),
        ("patch", f"/api/v1/transactions/{theirs.transaction.pk}/", {"category": ours.category.pk}, "category"),
        ("patch", f"/api/v1/transactions/{theirs.transaction.pk}/", {"tags": [ours.tag.pk]}, "tags"),
        (
            "post",
            "/api/v1/transfers/",
            {"from_account": theirs.account.pk, "to_account": ours.account.pk, "date": "2024-02-02", "amount": "1.00"},
            "to_account",
        ),
        (
            "post",
            "/api/v1/transfers/",
            {"from_account": ours.account.pk, "to_account": theirs.account.pk, "date": "2024-02-02", "amount": "1.00"},
            "from_account",
        ),
        ("post", "/api/v1/categories/", {"name": "Sub", "parent": ours.category.pk}, "parent"),
        ("patch", f"/api/v1/categories/{theirs.category.pk}/", {"parent": ours.category.pk}, "parent"),
        (
            "post",
            "/api/v1/accounts/",
            {"household": ours.household.pk, "name": "X", "currency": "EUR", "opening_date": "2024-01-01"},
            "household",
        ),
        ("post", "/api/v1/categories/", {"household": ours.household.pk, "name": "X"}, "household"),
        ("post", "/api/v1/tags/", {"household": ours.household.pk, "name": "x"}, "household"),
    ]
    for method, url, body, field in bodies:
        response = send(client, method, url, body)
        assert response.status_code == 400, (method, url, body, response.content)
        assert field in response.json(), (url, body, response.json())
        assert str(ours.household.name) not in response.content.decode()
    assert Transaction.objects.filter(household=ours.household).count() == 4


def test_a_member_of_two_households_cannot_mix_their_rows(ours: Books, editor: User, client_for: Any) -> None:
    personal = Household.objects.exclude(pk=ours.household.pk).get(memberships__user=editor)
    mine = make_books(personal, prefix="Eddie ")
    client = client_for(editor)
    own = {"account": mine.account.pk, "date": "2024-02-02", "amount": "-1.00"}
    for body, field in (
        ({**own, "category": ours.category.pk}, "category"),
        ({**own, "tags": [ours.tag.pk]}, "tags"),
        ({**own, "splits": [{"category": ours.category.pk, "amount": "-1.00"}]}, "splits"),
    ):
        response = client.post("/api/v1/transactions/", body, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()
    transfer = {"from_account": mine.account.pk, "to_account": ours.account.pk, "date": "2024-02-02", "amount": "1.00"}
    assert client.post("/api/v1/transfers/", transfer, format="json").status_code == 400
    response = client.patch(f"/api/v1/transactions/{mine.transaction.pk}/", {"account": ours.account.pk}, format="json")
    assert response.status_code == 400
    response = client.post(
        "/api/v1/categories/", {"household": personal.pk, "name": "Sub", "parent": ours.category.pk}, format="json"
    )
    assert response.status_code == 400
    assert "parent" in response.json()
    response = client.post(
        "/api/v1/accounts/", {"name": "Where?", "currency": "EUR", "opening_date": "2024-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "household" in response.json()


# --- No body produces a 500 ----------------------------------------------------------------------

HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1.5,
    "abc",
    "",
    " ",
    "\x00",
    "nul\x00byte",
    "😀" * 50,
    "x" * 10_000,
    "1e3",
    "NaN",
    "2024-02-30",
    [],
    [None],
    [10**30],
    ["x"],
    [[[]]],
    {},
    {"id": 1},
    {"a": {"b": [1, {"c": None}]}},
]
HOSTILE_BODIES: list[str] = [
    "[]",
    "[{}]",
    '"text"',
    "42",
    "null",
    "true",
    "{",
    '{"a": 1',
    "\x00",
    '{"\\u0000": 1}',
    "[" * 500 + "]" * 500,
]


def fuzz_targets(b: Books) -> list[tuple[str, str, dict[str, Any]]]:
    urls = object_urls(b)
    split_body = {
        "account": b.account.pk,
        "date": "2024-02-02",
        "amount": "-1.00",
        "splits": [{"category": b.category.pk, "amount": "-1.00"}],
    }
    return [
        ("post", "/api/v1/households/", {"name": "H", "base_currency": "EUR", "budget_month_start_day": 1}),
        ("patch", urls["household"], {"name": "H", "base_currency": "EUR", "budget_month_start_day": 1}),
        ("post", f"{urls['household']}invitations/", {"invitee": "vera", "role": "viewer"}),
        ("patch", f"{urls['household']}members/{b.membership.pk}/", {"role": "viewer"}),
        (
            "post",
            "/api/v1/accounts/",
            {
                "household": b.household.pk,
                "name": "A",
                "currency": "EUR",
                "opening_date": "2024-01-01",
                "opening_balance": "1.00",
                "kind": "cash",
                "institution": "",
                "archived": False,
            },
        ),
        (
            "patch",
            urls["account"],
            {
                "name": "A",
                "currency": "EUR",
                "opening_date": "2024-01-01",
                "opening_balance": "1.00",
                "archived": False,
            },
        ),
        ("post", f"{urls['account']}reconcile/", {"statement_date": "2024-02-01", "statement_balance": "0.00"}),
        (
            "post",
            "/api/v1/categories/",
            {"household": b.household.pk, "name": "C", "parent": b.category.pk, "kind": "expense", "archived": False},
        ),
        ("patch", urls["category"], {"name": "C", "parent": None, "kind": "expense", "archived": False}),
        ("post", "/api/v1/tags/", {"household": b.household.pk, "name": "t"}),
        ("patch", urls["tag"], {"name": "t"}),
        (
            "post",
            "/api/v1/transactions/",
            {**split_body, "tags": [b.tag.pk], "payee": "P", "description": "D", "status": "pending", "category": None},
        ),
        ("patch", urls["transaction"], {**split_body, "tags": [b.tag.pk], "payee": "P", "status": "cleared"}),
        (
            "post",
            "/api/v1/transfers/",
            {
                "from_account": b.account.pk,
                "to_account": b.other_account.pk,
                "date": "2024-02-02",
                "amount": "1.00",
                "to_amount": "1.00",
                "description": "",
                "status": "cleared",
            },
        ),
        ("post", "/api/v1/auth/token/", {"username": "olivia", "password": "x", "name": "n"}),
    ]


def _attempt(client: APIClient, method: str, url: str, raw: str) -> str | None:
    try:
        response = client.generic(method.upper(), url, raw, content_type="application/json")
    except Exception as error:  # noqa: BLE001 - an exception escaping the view is exactly what we look for
        return f"{method} {url} {raw[:120]!r}: {error.__class__.__name__}: {error}"
    if response.status_code >= 500:
        return f"{method} {url} {raw[:120]!r}: {response.status_code}"
    return None


def _bodies(valid: dict[str, Any]) -> list[str]:
    bodies = [
        json.dumps(valid),
        *HOSTILE_BODIES,
        json.dumps([valid]),
        json.dumps({**valid, "extra": "field", "id": 1, "household": 10**30}),
    ]
    for field in valid:
        bodies.append(json.dumps({key: value for key, value in valid.items() if key != field}))
        for value in HOSTILE_VALUES:
            bodies.append(json.dumps({**valid, field: value}))
        if field == "splits":
            for value in HOSTILE_VALUES:
                bodies.append(json.dumps({**valid, "splits": [{"category": value, "amount": "-1.00"}]}))
                bodies.append(
                    json.dumps({**valid, "splits": [{"category": valid["splits"][0]["category"], "amount": value}]})
                )
                bodies.append(json.dumps({**valid, "splits": [{**valid["splits"][0], "memo": value}]}))
    return bodies


@pytest.mark.parametrize("target", range(14), ids=lambda index: f"endpoint{index}")
def test_no_request_body_produces_a_500(ours: Books, owner: User, client_for: Any, target: int, settings: Any) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token_obtain": "100000/min"}}
    client = client_for(owner)
    method, url, valid = fuzz_targets(ours)[target]
    failures = [failure for raw in _bodies(valid) if (failure := _attempt(client, method, url, raw))]
    assert failures == []


@pytest.mark.parametrize("persona", ["viewer", "outsider"])
def test_no_request_body_produces_a_500_for_viewers_and_outsiders(
    request: pytest.FixtureRequest, ours: Books, persona: str, client_for: Callable[[User], APIClient]
) -> None:
    client = client_for(request.getfixturevalue(persona))
    failures = []
    for method, url, valid in fuzz_targets(ours)[:-1]:
        for raw in [json.dumps(valid), *HOSTILE_BODIES, json.dumps(dict.fromkeys(valid, 10**30))]:
            if failure := _attempt(client, method, url, raw):
                failures.append(failure)
    assert failures == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/accounts/99999999999999999999999/",
        "/api/v1/accounts/-1/",
        "/api/v1/accounts/abc/",
        "/api/v1/transactions/1e3/",
        "/api/v1/households/1/members/99999999999999999999999/",
        "/api/v1/accounts/99999999999999999999999/balance/",
        "/api/v1/transactions/99999999999999999999999/unreconcile/",
    ],
)
def test_hostile_ids_in_urls_are_404s(owner: User, client_for: Any, url: str) -> None:
    client = client_for(owner)
    for method in ("get", "patch", "delete", "post"):
        response = getattr(client, method)(url)
        assert response.status_code in (404, 405), (method, url, response.status_code)
