"""The register: an account's transaction list with running balances, status marks, quick entry and payee
suggestions — scoped like every other admin page."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from ledger.admin.register import register_url
from ledger.models import Account, Household, Transaction, TransactionStatus, User
from ledger.selectors import account_balance, running_balances
from ledger.services.accounts_categories_tags import account_create, category_create
from ledger.services.transactions import transaction_create
from tests.factories import staff_client

pytestmark = pytest.mark.django_db


def shown(value: Decimal) -> str:
    """How a euro amount reads on a page: two places, grouped thousands, a real minus sign."""
    return f"{value:,.2f} EUR".replace("-", "\u2212")


def expected_balances(account: Account) -> dict[int, Decimal]:
    """The oracle, in Python: opening balance (from the opening date) plus every row up to this one by (date, id)."""
    running = Decimal(0)
    result = {}
    for tx in Transaction.objects.filter(account=account).order_by("date", "id"):
        running += tx.amount
        opening = account.opening_balance if tx.date >= account.opening_date else Decimal(0)
        result[tx.pk] = opening + running
    return result


@pytest.fixture
def checking(household: Household) -> Account:
    account = account_create(
        household=household,
        name="Checking",
        currency="EUR",
        opening_balance=Decimal("1000.00"),
        opening_date=datetime.date(2024, 1, 1),
    )
    # Rows over three months, several on one day, entered out of date order.
    amounts = ["-12.30", "2500.00", "-800.00", "-45.99", "-0.01", "-1200.00", "19.95", "-60.00"]
    days = [
        (2024, 3, 5),
        (2024, 1, 31),
        (2024, 2, 1),
        (2024, 2, 1),
        (2024, 1, 15),
        (2024, 3, 1),
        (2024, 2, 1),
        (2024, 1, 2),
    ]
    for amount, day in zip(amounts, days, strict=True):
        transaction_create(account=account, date=datetime.date(*day), amount=amount, payee=f"Payee {amount}")
    return account


def test_running_balance_is_the_true_balance_after_each_row(checking: Account) -> None:
    ids = list(Transaction.objects.filter(account=checking).values_list("pk", flat=True))
    assert running_balances(checking, ids) == expected_balances(checking)
    last = Transaction.objects.filter(account=checking).order_by("-date", "-id").first()
    assert last is not None
    assert running_balances(checking, [last.pk])[last.pk] == account_balance(checking)


def test_running_balance_of_a_subset_does_not_depend_on_the_other_rows_shown(checking: Account) -> None:
    oracle = expected_balances(checking)
    some = sorted(oracle)[::3]
    assert running_balances(checking, some) == {pk: oracle[pk] for pk in some}


def test_register_page_shows_each_rows_balance_across_pages_and_filters(
    owner: User, household: Household, checking: Account, settings: Any
) -> None:
    client = staff_client(owner)
    oracle = expected_balances(checking)
    from ledger.admin.transactions import TransactionAdmin

    TransactionAdmin.list_per_page, saved = 3, TransactionAdmin.list_per_page
    try:
        seen: dict[int, str] = {}
        for page in range(3):
            response = client.get(register_url(checking) + f"&p={page + 1}")
            assert response.status_code == 200
            html = response.content.decode()
            for pk, balance in re.findall(r'/ledger/transaction/(\d+)/change/.*?ft-balance[^"]*">([^<]+)<', html, re.S):
                seen[int(pk)] = balance
        assert seen == {pk: shown(value) for pk, value in oracle.items()}
        # A search hides rows, not their effect: a row's balance is the same as in the full register.
        response = client.get(register_url(checking) + "&q=-1200")
        html = response.content.decode()
        (pk, balance), *_ = re.findall(r'/ledger/transaction/(\d+)/change/.*?ft-balance[^"]*">([^<]+)<', html, re.S)
        assert balance == shown(oracle[int(pk)])
    finally:
        TransactionAdmin.list_per_page = saved


def test_register_shows_status_marks_in_words(owner: User, checking: Account) -> None:
    transaction_create(
        account=checking,
        date=datetime.date(2024, 3, 9),
        amount="-1.00",
        payee="Kiosk",
        status=TransactionStatus.PENDING,
    )
    html = staff_client(owner).get(register_url(checking)).content.decode()
    assert "○</span> pending" in html
    assert "✓</span> cleared" in html


def test_account_list_links_each_account_to_its_register(owner: User, checking: Account) -> None:
    html = staff_client(owner).get(reverse("admin:ledger_account_changelist")).content.decode()
    assert register_url(checking).replace("&", "&amp;") in html or register_url(checking) in html


def test_another_households_register_is_a_404_like_a_missing_account(
    owner: User, outsider_household: Household
) -> None:
    theirs = account_create(
        household=outsider_household, name="Secret", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    client = staff_client(owner)
    assert client.get(register_url(theirs)).status_code == 404
    assert client.get(register_url(theirs.pk + 1000)).status_code == 404
    payees = reverse("admin:ledger_transaction_payees")
    assert client.get(payees, {"account": str(theirs.pk), "term": ""}).status_code == 404
    quick = reverse("admin:ledger_transaction_quick_entry")
    response = client.post(quick, {"account": theirs.pk, "date": "2024-04-01", "amount": "-1.00"})
    assert response.status_code == 404
    assert not Transaction.objects.filter(account=theirs).exists()


def test_quick_entry_writes_through_the_service_and_returns_to_the_register(
    editor: User, household: Household, checking: Account
) -> None:
    food = category_create(household=household, name="Food")
    client = staff_client(editor)
    page = client.get(register_url(checking)).content.decode()
    assert 'id="ft-quick-entry"' in page
    response = client.post(
        reverse("admin:ledger_transaction_quick_entry"),
        {"account": checking.pk, "date": "2024-03-10", "payee": "Bakery", "category": food.pk, "amount": "-3.40"},
    )
    assert response.status_code == 302
    assert response["Location"] == register_url(checking)
    saved = Transaction.objects.get(payee="Bakery")
    assert (saved.amount, saved.category, saved.created_by) == (Decimal("-3.40"), food, editor)
    # The next entry starts on the same day, with the cursor in the payee box.
    page = client.get(register_url(checking)).content.decode()
    assert 'value="2024-03-10"' in page
    assert "autofocus" in page


def test_quick_entry_refuses_bad_input_and_keeps_what_was_typed(editor: User, checking: Account) -> None:
    client = staff_client(editor)
    before = Transaction.objects.count()
    response = client.post(
        reverse("admin:ledger_transaction_quick_entry"),
        {"account": checking.pk, "date": "2024-03-10", "payee": "Too precise", "amount": "-3.401"},
        follow=True,
    )
    html = response.content.decode()
    assert Transaction.objects.count() == before
    assert "Not added" in html
    assert "EUR amounts take at most 2 decimal places" in html
    assert 'value="Too precise"' in html
    assert 'value="-3.401"' in html


def test_viewer_sees_no_quick_entry_and_may_not_post_one(viewer: User, checking: Account) -> None:
    client = staff_client(viewer)
    html = client.get(register_url(checking)).content.decode()
    assert "ft-balance" in html
    assert 'id="ft-quick-entry"' not in html
    response = client.post(
        reverse("admin:ledger_transaction_quick_entry"),
        {"account": checking.pk, "date": "2024-03-10", "amount": "-1.00"},
    )
    assert response.status_code == 403
    assert not Transaction.objects.filter(date=datetime.date(2024, 3, 10)).exists()


def test_payee_suggestions_propose_the_payees_last_category_and_amount(
    owner: User, household: Household, checking: Account, outsider_household: Household
) -> None:
    food = category_create(household=household, name="Food")
    groceries = category_create(household=household, name="Groceries", parent=food)
    transaction_create(account=checking, date=datetime.date(2024, 1, 3), amount="-10.00", payee="Kaufland")
    transaction_create(
        account=checking, date=datetime.date(2024, 3, 3), amount="-34.21", payee="Kaufland", category=groceries
    )
    theirs = account_create(
        household=outsider_household, name="Theirs", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    transaction_create(account=theirs, date=datetime.date(2024, 3, 4), amount="-1.00", payee="Kaufhaus secret")
    response = staff_client(owner).get(
        reverse("admin:ledger_transaction_payees"), {"account": str(checking.pk), "term": "kauf"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {"payee": "Kaufland", "category": groceries.pk, "category_label": "Food › Groceries", "amount": "-34.21"}
        ]
    }


def test_register_page_costs_the_same_queries_whatever_the_number_of_rows_and_months(
    owner: User, checking: Account
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = staff_client(owner)
    client.get(register_url(checking))  # warm up: content types and permission caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(register_url(checking)).status_code == 200
        return len(captured)

    few = queries()
    for month in range(4, 13):  # nine more months, three rows each
        for day in (3, 14, 25):
            transaction_create(account=checking, date=datetime.date(2024, month, day), amount="-1.00", payee="Kiosk")
    assert queries() == few
