"""List endpoints cost a fixed number of queries, whatever the page size and however many rows exist.

Each request is made after a first one, so the token's `last_used_at` write (at most once a minute) is
not counted.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from ledger.models import Account, Category, Household, Tag, User
from ledger.services import accounts_categories_tags as account_services
from ledger.services import households
from ledger.services.transactions import SplitLine, transaction_create, transfer_create

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)

# Every request starts with this one:
#   1. the bearer token, joined to its user, with the person's memberships ({household: role}) in the same
#      statement, memoised for the request and used to scope every query
PER_REQUEST = 1

EXPECTED_QUERIES = {
    # 2. households  3. their memberships with users (prefetch)
    "households": PER_REQUEST + 2,
    # 2. accounts with their balance (a correlated sum over monthly totals, in the same query)
    "accounts": PER_REQUEST + 1,
    # 2. categories
    "categories": PER_REQUEST + 1,
    # 2. tags
    "tags": PER_REQUEST + 1,
    # 2. transactions with their account's currency, their splits and their tags (arrays in the same statement),
    #    whatever the filters and the search (one statement compiled once per shape: ledger.selectors)
    "transactions": PER_REQUEST + 1,
    # 2. transfers  3. their two sides with accounts (prefetch)
    "transfers": PER_REQUEST + 2,
}


def add_rows(resource: str, household: Household, owner: User, count: int, start: int) -> None:
    checking = account_services.account_create(
        household=household, name=f"Checking {start}", currency="EUR", opening_date=DAY
    )
    savings = account_services.account_create(
        household=household, name=f"Savings {start}", currency="EUR", opening_date=DAY
    )
    food = account_services.category_create(household=household, name=f"Food {start}")
    tag = account_services.tag_create(household=household, name=f"helper {start}")
    for index in range(start, start + count):
        if resource == "households":
            households.household_create(owner=owner, name=f"Household {index}")
        elif resource == "accounts":
            account_services.account_create(
                household=household, name=f"Account {index}", currency="EUR", opening_date=DAY
            )
        elif resource == "categories":
            account_services.category_create(household=household, name=f"Category {index}", parent=food)
        elif resource == "tags":
            account_services.tag_create(household=household, name=f"tag {index}")
        elif resource == "transactions":
            transaction_create(
                account=checking,
                date=DAY - datetime.timedelta(days=index),
                amount="-3.00",
                payee=f"Payee {index}",
                tags=[tag],
                splits=[
                    SplitLine(category=food, amount=Decimal("-1.00")),
                    SplitLine(category=food, amount=Decimal("-2.00")),
                ],
            )
        elif resource == "transfers":
            transfer_create(from_account=checking, to_account=savings, date=DAY, amount="1.00")


@pytest.mark.parametrize("resource", list(EXPECTED_QUERIES))
def test_list_queries_do_not_grow_with_page_size_or_rows(
    resource: str,
    owner: User,
    household: Household,
    client_for: Callable[[User], APIClient],
    django_assert_num_queries: Any,
) -> None:
    client = client_for(owner)
    client.get("/api/v1/households/")  # records the token's first use
    expected = EXPECTED_QUERIES[resource]
    for rows in (10, 100):
        add_rows(resource, household, owner, count=rows - (10 if rows == 100 else 0), start=rows)
        for page_size in (5, 50):
            with django_assert_num_queries(expected):
                response = client.get(f"/api/v1/{resource}/?page_size={page_size}")
            assert response.status_code == 200
            assert min(page_size, rows) <= len(response.json()["results"]) <= page_size


def test_a_later_page_costs_the_same_as_the_first(
    owner: User, household: Household, client_for: Callable[[User], APIClient], django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    add_rows("transactions", household, owner, count=30, start=0)
    first = client.get("/api/v1/transactions/?page_size=10").json()
    with django_assert_num_queries(EXPECTED_QUERIES["transactions"]):
        second = client.get(first["next"])
    assert len(second.json()["results"]) == 10


def test_a_filtered_transaction_list_costs_the_same(
    owner: User, household: Household, client_for: Callable[[User], APIClient], django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    add_rows("transactions", household, owner, count=12, start=0)
    client.get("/api/v1/households/")
    with django_assert_num_queries(EXPECTED_QUERIES["transactions"]):
        response = client.get("/api/v1/transactions/?min_amount=-10&status=cleared&ordering=amount&page_size=5")
    assert response.status_code == 200


def test_every_filter_and_search_together_cost_the_same(
    owner: User, household: Household, client_for: Callable[[User], APIClient], django_assert_num_queries: Any
) -> None:
    client = client_for(owner)
    add_rows("transactions", household, owner, count=12, start=0)
    account = Account.objects.filter(household=household).order_by("id").first()
    category = Category.objects.filter(household=household).order_by("id").first()
    tag = Tag.objects.filter(household=household).order_by("id").first()
    assert account and category and tag
    client.get("/api/v1/households/")
    filters = (
        f"account={account.pk}&household={household.pk}&category={category.pk}&uncategorized=false"
        f"&date_after=2023-01-01&date_before=2024-12-31&min_amount=-10&max_amount=0&status=cleared&tag={tag.pk}"
    )
    for query in (filters, "search=payee", f"{filters}&search=payee&ordering=-amount"):
        with django_assert_num_queries(EXPECTED_QUERIES["transactions"]):
            response = client.get(f"/api/v1/transactions/?{query}&page_size=5")
        assert response.status_code == 200 and len(response.json()["results"]) == 5
        with django_assert_num_queries(EXPECTED_QUERIES["transactions"]):
            assert client.get(response.json()["next"]).status_code == 200


def test_a_person_in_no_household_gets_no_transactions_and_no_page_query(
    owner: User, household: Household, client_for: Callable[[User], APIClient], django_assert_num_queries: Any
) -> None:
    add_rows("transactions", household, owner, count=3, start=0)
    households.household_delete(household=household)
    client = client_for(owner)
    client.get("/api/v1/households/")
    # 1. the token and memberships (none): nothing to read the page from
    with django_assert_num_queries(PER_REQUEST):
        response = client.get("/api/v1/transactions/?search=a")
    assert response.status_code == 200 and response.json()["results"] == []
