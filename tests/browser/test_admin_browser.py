"""The admin in a real browser: an editor records a split transaction and never sees another household."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest

from ledger.models import Household, Transaction, User
from ledger.services.transactions import transaction_create
from tests.factories import books_for, staff_member

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's password
SECRET = "Zanzibar-secret"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_editor_adds_a_split_transaction_and_sees_only_their_household(
    page: Any, live_server: Any, editor: User, household: Household, outsider_household: Household
) -> None:
    staff_member(editor)
    books_for(household)
    theirs = books_for(outsider_household, prefix=f"{SECRET} ")
    transaction_create(account=theirs.checking, date=datetime.date(2024, 4, 1), amount="-9.00", payee=f"{SECRET} payee")

    page.goto(f"{live_server.url}/admin/login/?next=/admin/ledger/transaction/add/")
    page.fill("#id_username", editor.username)
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
    assert saved.created_by == editor

    # The outsider's transaction is not even reachable by its address.
    secret_tx = Transaction.objects.get(payee=f"{SECRET} payee")
    page.goto(f"{live_server.url}/admin/ledger/transaction/{secret_tx.pk}/change/")
    assert SECRET not in page.content()
    assert "doesn’t exist" in page.content()
