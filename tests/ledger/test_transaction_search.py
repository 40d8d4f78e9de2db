"""?search= matches the term, taken literally, in the payee or in the description (Django's icontains on
either column), now from SQL the list writes itself (ledger.selectors.transaction_page). These tests hold
the API to that reference on the inputs hand-written SQL, or a pre-filter over the joined texts, could get
wrong: a term across the payee/description boundary, LIKE's wildcards and escape, case mapping outside
ASCII, combining accents, the longest term the filter takes."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from django.db.models import Q
from rest_framework.test import APIClient

from ledger.models import Household, Transaction, User
from ledger.services import accounts_categories_tags as account_services
from ledger.services.transactions import transaction_create
from tests.conftest import People, person_made_once

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)
LONG = "long " * 40  # 200 characters, the longest term the filter takes

TEXTS = [
    ("Bakery", "Main street"),
    ("100% pure_juice", ""),
    ("100 pure juice", "percent_sign"),
    ("abc", "a_c is not abc"),
    ("C:\\path\\to", "back\\slash"),
    ("Straße", "STRASSE"),
    ("Ünïcode ☕", "İstanbul"),
    ("cafe\u0301", "café"),
    ("", LONG + "tail"),
    (LONG[:200], ""),
    ("Ba", "kery"),
]

TERMS = [
    "bakery",
    "BAKERY",
    "ery Mai",  # across the boundary of payee and description: in neither text
    "y M",
    "Bakery Main",
    "a k",
    "Bakery ",  # stripped
    "%",
    "100%",
    "0% p",
    "_",
    "e_j",
    "e%j",
    "a_c",
    "\\",
    "\\p",
    "C:\\path",
    "h\\t",
    "ß",
    "STRASSE",
    "strasse",
    "ünï",
    "ÜNÏ",
    "☕",
    "i̇stanbul",
    "İST",
    "cafe\u0301",
    "café",
    "e\u0301",
    LONG,
    LONG[:199] + "t",
    "a" * 200,
    "Ba kery",
    "akery",
]


owner = person_made_once("owner")
outsider = person_made_once("outsider")


@pytest.fixture(scope="module")
def searchable_once(people_once: People) -> None:
    """The texts in the owner's and the outsider's books, made once for this module (tests/conftest.py
    people_once): its tests only read them."""
    for person in (people_once.owner, people_once.outsider):
        home = Household.objects.get(memberships__user=person)
        account = account_services.account_create(household=home, name="Checking", currency="EUR", opening_date=DAY)
        for number, (payee, description) in enumerate(TEXTS):
            transaction_create(
                account=account,
                date=DAY - datetime.timedelta(days=number),
                amount="-1.00",
                payee=payee,
                description=description,
            )


@pytest.fixture
def searchable(db: None, searchable_once: None) -> None:
    """This test's database holds the module's texts (searchable_once)."""


def api_ids(client: APIClient, term: str) -> list[int]:
    response = client.get("/api/v1/transactions/", {"search": term, "page_size": "500"})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def reference_ids(household: Household, term: str) -> list[int]:
    """The match the filter always had: the stripped term, literally, in either column (icontains)."""
    text = term.strip()
    rows = Transaction.objects.filter(household=household).order_by("-date", "-id")
    if text:
        rows = rows.filter(Q(payee__icontains=text) | Q(description__icontains=text))
    return list(rows.values_list("id", flat=True))


@pytest.mark.usefixtures("searchable")
@pytest.mark.parametrize("term", TERMS)
def test_search_matches_exactly_what_it_matched_before(
    term: str, owner: User, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    assert api_ids(client_for(owner), term) == reference_ids(household, term)


@pytest.mark.usefixtures("searchable")
def test_a_term_across_the_payee_and_the_description_matches_nothing(
    owner: User, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    # The joined text "Bakery Main street" holds the term; neither column does.
    assert Transaction.objects.filter(household=household, payee="Bakery", description="Main street").exists()
    client = client_for(owner)
    assert api_ids(client, "ery Mai") == []
    assert api_ids(client, "Ba kery") == []
    assert len(api_ids(client, "bakery")) == 1


@pytest.mark.usefixtures("searchable")
def test_wildcards_and_backslashes_are_taken_literally(owner: User, client_for: Callable[[User], APIClient]) -> None:
    client = client_for(owner)
    payees = {row.pk: row.payee for row in Transaction.objects.all()}
    assert {payees[pk] for pk in api_ids(client, "e_j")} == {"100% pure_juice"}
    assert api_ids(client, "e%j") == []
    assert {payees[pk] for pk in api_ids(client, "a_c")} == {"abc"}  # its description says "a_c"
    assert {payees[pk] for pk in api_ids(client, "h\\t")} == {"C:\\path\\to"}


@pytest.mark.usefixtures("searchable")
def test_a_term_longer_than_the_filter_takes_is_refused_as_before(
    owner: User, client_for: Callable[[User], APIClient]
) -> None:
    response = client_for(owner).get("/api/v1/transactions/", {"search": "x" * 201})
    assert response.status_code == 400
    assert "200" in response.content.decode()


@pytest.mark.usefixtures("searchable")
def test_another_households_rows_never_match(
    owner: User, outsider: User, client_for: Callable[[User], APIClient]
) -> None:
    mine, theirs = api_ids(client_for(owner), "bakery"), api_ids(client_for(outsider), "bakery")
    assert len(mine) == len(theirs) == 1 and mine != theirs
