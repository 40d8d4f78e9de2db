"""The back office's API token pages, and changelist query counts that stay flat whatever the page size."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ledger.models import (
    ApiToken,
    User,
)
from ledger.services.tokens import api_token_create, token_hash
from ledger.services.transactions import SplitLine, transaction_create
from tests.conftest import clear_this_workers_cache
from tests.factories import Books
from tests.ledger.back_office import MODELS, admin_url, login, messages_of

# --- API tokens ---------------------------------------------------------------------------------------


def test_it_creates_a_token_and_shows_the_secret_once(client: Client, personas: dict[str, User]) -> None:
    response = login(client, personas["editor"]).post(admin_url("apitoken", "add"), {"name": "laptop"}, follow=True)
    secret = next(text for text in messages_of(response) if "will not be shown again" in text).rsplit(" ", 1)[-1]
    token = ApiToken.objects.get(user=personas["editor"], name="laptop")
    assert token.key_hash == token_hash(secret)
    assert secret not in client.get(admin_url("apitoken")).content.decode()
    assert secret not in client.get(admin_url("apitoken", "change", token.pk)).content.decode()


def test_it_revokes_tokens_and_lists_only_your_own(client: Client, personas: dict[str, User]) -> None:
    mine, _secret = api_token_create(user=personas["editor"], name="mine")
    theirs, _secret = api_token_create(user=personas["owner"], name="theirs")
    login(client, personas["editor"])
    page = client.get(admin_url("apitoken"))
    assert list(page.context["cl"].result_list) == [mine]
    assert mine.prefix in page.content.decode()
    client.post(admin_url("apitoken"), {"action": "revoke_tokens", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


# --- query counts ------------------------------------------------------------------------------------


def fill_household(books: Books, count: int) -> None:
    for index in range(count):
        tx = transaction_create(
            account=books.checking,
            date=datetime.date(2024, 5, 1 + index % 28),
            amount="-3.00",
            payee=f"Bakery {index}",
            tags=[books.holiday],
            splits=[SplitLine(books.groceries, Decimal("-2.00")), SplitLine(books.travel, Decimal("-1.00"))],
        )
        assert tx.pk


def changelist_queries(client: Client, url: str) -> int:
    # Sessions are cached in Redis, which parallel test workers clear: always read the session from the database.
    clear_this_workers_cache()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# Every list page starts with five: session, user, the user's and the group's permissions, household roles.
# Then its own, none of them per row: filter choices, one count (no second "full" count), the page of rows.
# "values in use": one query per choices filter lists only the values the person's rows hold.
LIST_QUERIES = {
    "household": 7,  # count, rows
    "membership": 9,  # household filter, count, rows (user and household joined), values in use
    "user": 8,  # count, rows, and Django's own is_staff/superuser/active filters need no query
    "apitoken": 8,  # count, rows (user joined), and the revoked filter
    "account": 10,  # household filter, count, rows with balances from the monthly totals, values in use
    "category": 9,  # household filter, count, rows (parent joined), values in use
    "tag": 8,  # household filter, count, rows
    # account, category, tag and household filters; count; the page of rows (account and category joined);
    # split lines; tags; the date hierarchy's first/last date and its months.
    "transaction": 16,  # , values in use
    "transfer": 8,  # household filter, count, rows, both sides with their accounts
    "reconciliation": 10,  # account filter, count, rows, the date hierarchy's range and years
    "rule": 9,  # household filter, count, rows (category and household joined), values in use
    "auditentry": 12,  # household and object type filters, count, rows, the date hierarchy's range and days, values in use
}


@pytest.mark.parametrize("model", MODELS)
def test_list_query_count_is_pinned_and_does_not_grow_with_rows(
    client: Client,
    personas: dict[str, User],
    books: Books,
    model: str,
    django_assert_max_num_queries: Any,
) -> None:
    login(client, personas["owner"])
    url = admin_url(model)
    fill_household(books, 5)
    few = changelist_queries(client, url)
    assert few == LIST_QUERIES[model]
    fill_household(books, 45)
    with django_assert_max_num_queries(LIST_QUERIES[model]):
        many = changelist_queries(client, url)
    assert many == few
