"""The admin in a real browser: an editor records a split transaction and never sees another household."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from ledger.admin import household_members_group
from ledger.models import Household, Transaction, User
from ledger.services.books import account_create, category_create
from ledger.services.transactions import transaction_create

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
SECRET = "Zanzibar-secret"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff_editor(editor: User) -> User:
    editor.is_staff = True
    editor.save(update_fields=["is_staff"])
    editor.groups.add(household_members_group())
    return editor


def test_editor_adds_a_split_transaction_and_sees_only_their_household(
    page: Any, live_server: Any, staff_editor: User, household: Household, outsider_household: Household
) -> None:
    account_create(household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1))
    food = category_create(household=household, name="Food")
    category_create(household=household, name="Groceries", parent=food)
    category_create(household=household, name="Travel")
    secret_account = account_create(
        household=outsider_household, name=f"{SECRET} account", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    category_create(household=outsider_household, name=f"{SECRET} category")
    transaction_create(account=secret_account, date=datetime.date(2024, 4, 1), amount="-9.00", payee=f"{SECRET} payee")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/ledger/transaction/add/")
    page.fill("#id_username", staff_editor.username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-form [type=submit]")
    page.wait_for_url("**/admin/ledger/transaction/add/")
    assert SECRET not in page.content()

    page.select_option("#id_account", label="Checking (EUR)")
    page.fill("#id_date", "2024-04-02")
    page.fill("#id_amount", "-50.00")
    page.fill("#id_payee", "Browser market")
    page.select_option("#id_splits-0-category", label="Food › Groceries")
    page.fill("#id_splits-0-amount", "-30.00")
    page.select_option("#id_splits-1-category", label="Travel")
    page.fill("#id_splits-1-amount", "-20.00")
    page.click("[name=_save]")

    page.wait_for_url("**/admin/ledger/transaction/")
    listing = page.content()
    assert "Browser market" in listing
    assert "Split: Food › Groceries, Travel" in listing
    assert SECRET not in listing
    saved = Transaction.objects.get(payee="Browser market")
    assert sorted(saved.splits.values_list("amount", flat=True)) == [Decimal("-30.00"), Decimal("-20.00")]
    assert saved.created_by == staff_editor

    # The outsider's transaction is not even reachable by its address.
    secret_tx = Transaction.objects.get(payee=f"{SECRET} payee")
    page.goto(f"{live_server.url}/admin/ledger/transaction/{secret_tx.pk}/change/")
    assert SECRET not in page.content()
    assert "doesn’t exist" in page.content()
