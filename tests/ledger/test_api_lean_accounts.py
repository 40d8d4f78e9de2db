"""The account list ("all balances") is built from `.values()` rows and filtered without django-filter's
per-request form; it must say exactly what AccountSerializer and the generic filter backend say."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from ledger.api.filters import FormlessFilterBackend, ScopedFilterBackend
from ledger.api.serializers import AccountSerializer
from ledger.api.views import AccountViewSet
from ledger.models import Account, Household, User
from ledger.selectors import accounts_with_balance
from ledger.services import accounts_categories_tags as account_services
from ledger.services.households import household_create
from ledger.services.transactions import transaction_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)


@pytest.fixture
def accounts_of_every_shape(household: Household, owner: User) -> Household:
    euro = account_services.account_create(
        household=household, name="Checking", currency="EUR", opening_date=DAY, opening_balance="100.5"
    )
    yen = account_services.account_create(
        household=household, name="yen wallet", currency="JPY", kind="cash", opening_date=DAY, institution="Post"
    )
    bahraini = account_services.account_create(
        household=household, name="Bahrain", currency="BHD", kind="savings", opening_date=DAY, opening_balance="-2"
    )
    account_services.account_create(household=household, name="Old", currency="EUR", opening_date=DAY, archived=True)
    transaction_create(account=euro, date=DAY, amount="-12.30")
    transaction_create(account=euro, date=DAY + datetime.timedelta(days=40), amount="1000")
    transaction_create(account=yen, date=DAY, amount="-1500")
    transaction_create(account=bahraini, date=DAY, amount="0.125")
    other = household_create(owner=owner, name="Second home")
    account_services.account_create(household=other, name="Abroad", currency="USD", opening_date=DAY)
    # Someone else's household: never listed.
    stranger = household_create(owner=UserFactory(username="stranger"), name="Theirs")
    account_services.account_create(household=stranger, name="Hidden", currency="EUR", opening_date=DAY)
    return other


def serializer_view(owner: User, ids: list[int]) -> list[dict[str, Any]]:
    request = APIRequestFactory().get("/")
    request.user = owner
    by_id = {row.pk: row for row in accounts_with_balance(Account.objects.filter(pk__in=ids))}
    return list(AccountSerializer([by_id[pk] for pk in ids], many=True, context={"request": request}).data)


@pytest.mark.parametrize(
    "query",
    ["", "kind=savings", "currency=JPY", "archived=true", "archived=false", "ordering=-name", "ordering=id", "kind="],
)
def test_every_page_equals_the_serializer(
    accounts_of_every_shape: Household, owner: User, client_for: Callable[[User], APIClient], query: str
) -> None:
    client = client_for(owner)
    url: str | None = f"/api/v1/accounts/?page_size=2&{query}"
    seen = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.content
        body = page.json()
        results = body["results"]
        assert results == serializer_view(owner, [row["id"] for row in results])
        seen.extend(results)
        url = body["next"]
    assert seen, query
    assert "Hidden" not in {row["name"] for row in seen}
    assert all(isinstance(row["balance"], str) for row in seen)
    balances = {row["name"]: row["balance"] for row in seen}
    if query == "":
        assert balances["Checking"] == "1088.20" and balances["yen wallet"] == "-1500"
        assert balances["Bahrain"] == "-1.875" and Decimal(balances["Abroad"]) == 0


def test_the_household_filter(accounts_of_every_shape: Household, owner: User, client_for: Any) -> None:
    rows = client_for(owner).get(f"/api/v1/accounts/?household={accounts_of_every_shape.pk}").json()["results"]
    assert [row["name"] for row in rows] == ["Abroad"]
    assert rows == serializer_view(owner, [row["id"] for row in rows])


def generic_and_formless(owner: User, query: dict[str, str]) -> tuple[Any, Any]:
    """(ScopedFilterBackend's outcome, FormlessFilterBackend's) for the account list: ids or the error."""
    outcomes: list[Any] = []
    for backend in (ScopedFilterBackend(), FormlessFilterBackend()):
        request = Request(APIRequestFactory().get("/api/v1/accounts/", query))
        request.user = owner
        view = AccountViewSet(request=request, format_kwarg=None, action="list", kwargs={})
        try:
            outcomes.append(
                sorted(backend.filter_queryset(request, view.get_queryset(), view).values_list("id", flat=True))
            )
        except ValidationError as error:
            outcomes.append(error.detail)
    return outcomes[0], outcomes[1]


@pytest.mark.parametrize(
    "query",
    [
        {"household": "abc"},
        {"household": "0"},
        {"household": "-1"},
        {"household": "99999999999999999999"},
        {"kind": "bogus"},
        {"currency": "XXX"},
        {"archived": "maybe"},  # a yes/no filter refuses anything else (it used to be read as "any")
        {"household": "x", "kind": "bogus", "currency": "eur", "archived": "perhaps"},
    ],
)
def test_bad_filters_are_the_same_400s(
    accounts_of_every_shape: Household, owner: User, client_for: Callable[[User], APIClient], query: dict[str, str]
) -> None:
    generic, formless = generic_and_formless(owner, query)
    assert isinstance(generic, dict) and formless == generic
    assert [(name, [(e, e.code) for e in errors]) for name, errors in formless.items()] == [
        (name, [(e, e.code) for e in errors]) for name, errors in generic.items()
    ]
    response = client_for(owner).get("/api/v1/accounts/", query)
    assert response.status_code == 400
    assert response.json() == {name: [str(e) for e in errors] for name, errors in generic.items()}


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"kind": "cash"},
        {"currency": "BHD"},
        {"archived": "True"},
        {"archived": "0"},
        {"household": "1"},
    ],
)
def test_good_filters_select_the_same_rows(
    accounts_of_every_shape: Household, owner: User, query: dict[str, str]
) -> None:
    generic, formless = generic_and_formless(owner, query)
    assert isinstance(generic, list) and formless == generic


def test_the_as_of_balance_sums_only_what_it_shows(
    accounts_of_every_shape: Household,
    owner: User,
    client_for: Callable[[User], APIClient],
    django_assert_max_num_queries: Any,
) -> None:
    client = client_for(owner)
    checking = Account.objects.get(name="Checking")
    client.get("/api/v1/households/")  # records the token's first use
    # The token; the account (no current balance beside it); whole months' totals; the month's rows.
    with django_assert_max_num_queries(4) as captured:
        body = client.get(f"/api/v1/accounts/{checking.pk}/balance/?as_of={DAY.isoformat()}").json()
    assert body == {"account": checking.pk, "as_of": DAY.isoformat(), "balance": "88.20", "currency": "EUR"}
    account_query = next(query["sql"] for query in captured.captured_queries if '"ledger_account"' in query["sql"])
    assert "ledger_accountmonthtotal" not in account_query
    later = DAY + datetime.timedelta(days=40)
    assert (
        client.get(f"/api/v1/accounts/{checking.pk}/balance/?as_of={later.isoformat()}").json()["balance"] == "1088.20"
    )
