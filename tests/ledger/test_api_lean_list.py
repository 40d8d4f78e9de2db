"""The transaction list is one statement compiled once per shape, over the query string cleaned by the
filter's own fields (the hot path); it must answer exactly what DRF's generic list answers — the restricted
queryset filtered by TransactionFilter, ordered, cursor-paginated and serialised by TransactionSerializer —
byte for byte, for every filter, ordering, cursor and error, page after page in both directions."""

from __future__ import annotations

import base64
import datetime
import json
import zoneinfo
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import mixins
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from financetracker.core.api.pagination import StableCursorPagination
from ledger.api.serializers import TransactionSerializer
from ledger.api.views import TransactionViewSet
from ledger.models import Household, Transaction, TransactionStatus, User
from ledger.selectors import transactions_for_list
from ledger.services import accounts_categories_tags as account_services
from ledger.services.households import membership_set
from ledger.services.transactions import SplitLine, transaction_create, transfer_create
from tests.conftest import People, person_made_once
from tests.factories import UserFactory, staff_member

pytestmark = pytest.mark.django_db

DAY = datetime.date(2024, 3, 15)


class GenericTransactionList(TransactionViewSet):
    """The list as DRF's ListModelMixin serves it from the view's own declarations: the contract."""

    pagination_class = StableCursorPagination

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return mixins.ListModelMixin.list(self, request, *args, **kwargs)


LEAN = TransactionViewSet.as_view({"get": "list"})
GENERIC = GenericTransactionList.as_view({"get": "list"})


def answer(view: Callable[..., Any], user: User, url: str) -> tuple[Any, ...]:
    request = APIRequestFactory().get(url)
    force_authenticate(request, user=user)
    try:
        response = view(request)
    except ValueError as error:  # a forged cursor's id fails past DRF's handler: both lists must fail alike
        return type(error).__name__, str(error)
    response.render()
    return response.status_code, response.content


def assert_same_pages(user: User, url: str, *, most: int = 12) -> int:
    """Both lists answer `url` identically, then every `next` page, then every `previous` page back."""
    pages = 0
    for direction in ("next", "previous"):
        link: str | None = url
        while link:
            lean, generic = answer(LEAN, user, link), answer(GENERIC, user, link)
            assert lean == generic, link
            pages += 1
            assert pages < 2 * most, "the walk does not end"
            if lean[0] != 200:
                return pages
            link = json.loads(lean[1])[direction]
            if direction == "next" and link:
                url = link  # the walk back starts from the last page
    return pages


owner = person_made_once("owner")
outsider = person_made_once("outsider")


@pytest.fixture(scope="module")
def lean_books(people_once: People) -> dict[str, int]:
    """The owner's and the outsider's books, made once for this module's tests, which only read them (or roll
    back what they add): tests/conftest.py people_once."""
    homes = [Household.objects.get(memberships__user=person) for person in (people_once.owner, people_once.outsider)]
    return books_with_every_shape(*homes)


@pytest.fixture
def ids(db: None, lean_books: dict[str, int]) -> dict[str, int]:
    return lean_books


def books_with_every_shape(household: Household, outsider_household: Household) -> dict[str, int]:
    """Books with every shape a filter looks at — ties of date and amount for offset cursors, subcategories
    through rows and split lines, uncategorized rows, a transfer, tags, statuses — and an outsider's books
    with the same shapes, which no answer of the owner's may show."""
    found: dict[str, int] = {}
    for prefix, home in (("", household), ("their_", outsider_household)):
        euro = account_services.account_create(household=home, name="Checking", currency="EUR", opening_date=DAY)
        yen = account_services.account_create(household=home, name="Yen", currency="JPY", opening_date=DAY)
        food = account_services.category_create(household=home, name="Food")
        fun = account_services.category_create(household=home, name="Fun", parent=food)
        travel = account_services.category_create(household=home, name="Travel")
        zebra = account_services.tag_create(household=home, name="zebra")  # name order is not id order
        apple = account_services.tag_create(household=home, name="apple")
        named = {"euro": euro, "yen": yen, "food": food, "fun": fun, "travel": travel, "apple": apple, "zebra": zebra}
        found |= {f"{prefix}{name}": row.pk for name, row in {**named, "household": home}.items()}
        rows: list[dict[str, Any]] = [
            {"amount": "-12.30", "payee": "Bakery", "description": "Main street", "category": food},
            {"amount": "-12.30", "payee": "Bakery", "category": fun, "tags": [zebra, apple]},
            {
                "amount": "-3.00",
                "description": "split in two",
                "tags": [apple],
                "splits": [
                    SplitLine(category=fun, amount=Decimal("-1.25"), memo="ice"),
                    SplitLine(category=travel, amount=Decimal("-1.75")),
                ],
            },
            {"amount": "-3.00", "payee": "100% pure_juice", "status": TransactionStatus.PENDING},
            {"amount": "250.00", "payee": "Salary", "description": "March", "day": -1},
            {"amount": "-7.50", "payee": "C:\\path", "category": travel, "day": -1},
            {"amount": "-7.50", "payee": "Straße", "description": "Ünïcode ☕", "day": -2, "tags": [zebra]},
            {"amount": "-0.01", "payee": "Cent", "day": -2, "status": TransactionStatus.PENDING},
        ]
        for row in rows:
            transaction_create(
                account=euro,
                date=DAY + datetime.timedelta(days=row.get("day", 0)),
                amount=row["amount"],
                payee=row.get("payee", ""),
                description=row.get("description", ""),
                category=row.get("category"),
                splits=row.get("splits", ()),
                tags=row.get("tags", ()),
                status=row.get("status", TransactionStatus.CLEARED),
            )
        transaction_create(account=yen, date=DAY - datetime.timedelta(days=3), amount="-1500", payee="Ramen")
        transfer_create(from_account=euro, to_account=yen, date=DAY, amount="10.00", to_amount="1600")
    return found


QUERIES = [
    "",
    "?page_size=2",
    "?page_size=0",
    "?page_size=abc",
    "?page_size=1000",
    "?ordering=amount&page_size=2",
    "?ordering=-amount&page_size=3",
    "?ordering=date&page_size=2",
    "?ordering=-date",
    "?ordering=id&page_size=4",
    "?ordering=-id",
    "?ordering=amount,-date&page_size=3",
    "?ordering=-amount,id&page_size=2",
    "?ordering=bogus,payee",
    "?ordering=,amount",
    "?account={euro}&page_size=3",
    "?account={yen}.9",
    "?account={their_euro}",
    "?account=999999999",
    "?account=1e30",
    "?account=-1",
    "?account=abc",
    "?household={household}&page_size=5",
    "?household={their_household}",
    "?category={food}",
    "?category={fun}&page_size=1",
    "?category={travel}",
    "?category={their_food}",
    "?category=0",
    "?category=x",
    "?uncategorized=true",
    "?uncategorized=false&page_size=3",
    "?uncategorized=1",
    "?uncategorized=yes",
    "?uncategorized=",
    "?date_after=2024-03-14",
    "?date_before=2024-03-14&ordering=amount",
    "?date_after=2024-03-13&date_before=2024-03-14",
    "?date_after=14.03.2024",
    "?date_before=9999-12-31",
    "?min_amount=-5",
    "?max_amount=-5&ordering=-amount&page_size=2",
    "?min_amount=-3.00&max_amount=-1.5",
    "?min_amount=0",
    "?min_amount=abc&max_amount=NaN&status=bogus&tag=x",
    "?status=pending",
    "?status=cleared&page_size=2",
    "?status=reconciled",
    "?status=null",
    "?status=",
    "?tag={apple}",
    "?tag={zebra}&ordering=amount",
    "?tag={their_apple}",
    "?tag=x",
    "?search=bak",
    "?search=%20%20",
    "?search=BAKERY&page_size=1",
    "?search=y%20Main",
    "?search=MAIN",
    "?search=" + "x" * 201,
    "?account={euro}&category={food}&tag={apple}&status=cleared&ordering=amount&page_size=1",
    "?uncategorized=false&search=a&min_amount=-100&date_after=2024-01-01&page_size=2",
    "?uncategorized=true&status=pending&date_before=2024-03-15&max_amount=0",
    "?status=pending&status=cleared",
    "?cursor=garbage",
    "?cursor=" + base64.b64encode(b"p=abc").decode() + "&ordering=amount",
    "?cursor=" + base64.b64encode(b"p=2024-02-30").decode(),
    "?cursor=" + base64.b64encode(b"p=abc").decode() + "&ordering=id",
    "?cursor=" + base64.b64encode(b"p=99999999999999999999&r=1").decode() + "&ordering=id",
    "?cursor=" + base64.b64encode(b"o=2&p=-7.50&r=1").decode() + "&ordering=amount&page_size=1",
    "?cursor=" + base64.b64encode(b"o=5000").decode(),
]


@pytest.mark.parametrize("query", QUERIES)
def test_the_lean_list_answers_what_the_generic_list_answers(owner: User, ids: dict[str, int], query: str) -> None:
    pages = assert_same_pages(owner, "/api/v1/transactions/" + query.format(**ids))
    assert pages >= 1


@pytest.mark.parametrize("persona", ["viewer of two households", "outsider", "superuser", "nobody"])
def test_every_persona_sees_what_the_generic_list_shows(
    persona: str, household: Household, outsider: User, ids: dict[str, int]
) -> None:
    user = {"outsider": outsider}.get(persona) or UserFactory(username=persona.split()[0])
    if persona.startswith("viewer"):
        membership_set(household=household, user=user, role="viewer")
    elif persona == "superuser":
        staff_member(user, superuser=True)
    elif persona == "nobody":
        Household.objects.filter(memberships__user=user).delete()
    for query in ("?page_size=3", "?ordering=amount&page_size=4", "?search=a", "?tag={apple}", "?tag={their_apple}"):
        assert_same_pages(user, "/api/v1/transactions/" + query.format(**ids))


def serializer_view(owner: User, ids: list[int]) -> list[dict[str, Any]]:
    request = APIRequestFactory().get("/")
    request.user = owner
    rows = transactions_for_list(Transaction.objects.filter(pk__in=ids))
    by_id = {row.pk: row for row in rows}
    return list(TransactionSerializer([by_id[pk] for pk in ids], many=True, context={"request": request}).data)


@pytest.mark.usefixtures("ids")
def test_through_the_full_stack_the_rows_are_the_serializers(
    owner: User, client_for: Callable[[User], APIClient]
) -> None:
    results = client_for(owner).get("/api/v1/transactions/?page_size=500").json()["results"]
    assert results == serializer_view(owner, [row["id"] for row in results])
    assert {row["currency"] for row in results} == {"EUR", "JPY"}
    assert any(len(row["splits"]) == 2 for row in results) and any(len(row["tags"]) == 2 for row in results)
    assert any(row["transfer"] for row in results)
    assert {row["amount"] for row in results if row["currency"] == "JPY"} >= {"-1500", "1600"}
    assert len(results) == 11 and "Secret" not in str(results)


def test_another_households_rows_never_appear(
    owner: User,
    household: Household,
    outsider: User,
    outsider_household: Household,
    client_for: Callable[[User], APIClient],
) -> None:
    theirs = account_services.account_create(
        household=outsider_household, name="Theirs", currency="EUR", opening_date=DAY
    )
    secret = transaction_create(account=theirs, date=DAY, amount="-1.00", payee="Secret")
    ours = client_for(owner).get("/api/v1/transactions/?page_size=500").json()["results"]
    assert ours and not {row["household"] for row in ours} - {household.pk} and "Secret" not in str(ours)
    assert client_for(owner).get(f"/api/v1/transactions/?account={theirs.pk}").json()["results"] == []
    rows = client_for(outsider).get(f"/api/v1/transactions/?account={theirs.pk}").json()["results"]
    assert [row["id"] for row in rows] == [secret.pk]


@pytest.mark.usefixtures("ids")
def test_the_browsable_api_renders_the_lean_page_with_its_links_and_filters(
    owner: User, client_for: Callable[[User], APIClient]
) -> None:
    response = client_for(owner).get("/api/v1/transactions/?page_size=2&ordering=amount", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "?cursor=" in page and "page_size=2" in page  # the paginator's next link
    assert 'name="min_amount"' in page and 'name="search"' in page  # TransactionFilter's form


@pytest.mark.parametrize("zone", ["America/St_Johns", "Asia/Kathmandu", "UTC"])
def test_timestamps_read_as_the_generic_list_writes_them_in_any_time_zone(
    owner: User, ids: dict[str, int], zone: str
) -> None:
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        assert_same_pages(owner, "/api/v1/transactions/?page_size=4")
        body = json.loads(answer(LEAN, owner, "/api/v1/transactions/")[1])
    expected_suffix = "Z" if zone == "UTC" else ("-03:30" if zone == "America/St_Johns" else "+05:45")
    assert all(row["created_at"].endswith(expected_suffix) for row in body["results"])
