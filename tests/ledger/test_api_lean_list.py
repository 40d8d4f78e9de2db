"""The transaction list is built from `.values()` rows (the hot path); it must say exactly what
TransactionSerializer says for the same transactions, page by page, whatever the filter or ordering."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from ledger.api.serializers import TransactionSerializer
from ledger.models import Household, Transaction, User
from ledger.selectors import transactions_for_list
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import SplitLine, transaction_create, transfer_create

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)


@pytest.fixture
def books_with_every_shape(household: Household, owner: User) -> None:
    euro = account_services.account_create(household=household, name="Checking", currency="EUR", opening_date=DAY)
    yen = account_services.account_create(household=household, name="Yen", currency="JPY", opening_date=DAY)
    food = account_services.category_create(household=household, name="Food")
    fun = account_services.category_create(household=household, name="Fun", parent=food)
    # Tags whose name order is not their id order: the list must keep Tag's ordering (name, id).
    zebra = account_services.tag_create(household=household, name="zebra")
    apple = account_services.tag_create(household=household, name="apple")
    transaction_create(account=euro, date=DAY, amount="-12.30", payee="Bakery", category=food, tags=[zebra, apple])
    transaction_create(
        account=euro,
        date=DAY,
        amount="-3.00",
        description="split in two",
        splits=[
            SplitLine(category=fun, amount=Decimal("-1.25"), memo="ice"),
            SplitLine(category=food, amount=Decimal("-1.75")),
        ],
        tags=[apple],
    )
    transaction_create(account=yen, date=DAY - datetime.timedelta(days=3), amount="-1500", payee="Ramen")
    transfer_create(from_account=euro, to_account=yen, date=DAY, amount="10.00", to_amount="1600")


def serializer_view(owner: User, ids: list[int]) -> list[dict[str, Any]]:
    request = APIRequestFactory().get("/")
    request.user = owner
    rows = transactions_for_list(Transaction.objects.filter(pk__in=ids))
    by_id = {row.pk: row for row in rows}
    return list(TransactionSerializer([by_id[pk] for pk in ids], many=True, context={"request": request}).data)


@pytest.mark.usefixtures("books_with_every_shape")
@pytest.mark.parametrize(
    "query",
    ["", "?page_size=2", "?ordering=amount", "?ordering=-date", "?search=bak", "?tag=0", "?status=cleared"],
)
def test_the_list_says_what_the_serializer_says(
    owner: User, client_for: Callable[[User], APIClient], query: str
) -> None:
    client = client_for(owner)
    url: str | None = f"/api/v1/transactions/{query}"
    pages = 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        results = body["results"]
        assert results == serializer_view(owner, [row["id"] for row in results])
        url, pages = body["next"], pages + 1
        assert pages < 10
    if query == "":
        assert pages == 1 and len(results) == 5  # 3 transactions and the transfer's two sides


@pytest.mark.usefixtures("books_with_every_shape")
def test_the_lean_rows_cover_splits_tags_transfers_and_currencies(
    owner: User, client_for: Callable[[User], APIClient]
) -> None:
    results = client_for(owner).get("/api/v1/transactions/").json()["results"]
    assert {row["currency"] for row in results} == {"EUR", "JPY"}
    assert any(row["splits"] for row in results) and any(len(row["tags"]) == 2 for row in results)
    assert any(row["transfer"] for row in results)
    assert {row["amount"] for row in results if row["currency"] == "JPY"} >= {"-1500", "1600"}


def test_another_households_rows_never_appear(
    owner: User, outsider: User, outsider_household: Household, client_for: Callable[[User], APIClient]
) -> None:
    theirs = account_services.account_create(
        household=outsider_household, name="Theirs", currency="EUR", opening_date=DAY
    )
    transaction_create(account=theirs, date=DAY, amount="-1.00", payee="Secret")
    assert client_for(owner).get("/api/v1/transactions/").json()["results"] == []
    assert len(client_for(outsider).get("/api/v1/transactions/").json()["results"]) == 1
