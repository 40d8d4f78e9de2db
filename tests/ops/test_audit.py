"""Audit history: who changed what, when, from which request, what it was before; kept after deletes."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.template.response import TemplateResponse
from django.test import RequestFactory

from financetracker.core.money import display_amount
from ledger.admin_history import AuditHistoryAdminMixin
from ledger.audit import audit_record_import, snapshot
from ledger.models import Account, AuditEntry, Category, Household, Transaction, User
from ledger.services import accounts_categories_tags as account_services
from ledger.services import households
from ledger.services import transactions as tx_services
from tests.factories import AccountFactory, CategoryFactory, TransactionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(household: Household) -> Account:
    return AccountFactory(household=household, name="Checking")


@pytest.fixture
def food(household: Household) -> Category:
    return CategoryFactory(household=household, name="Food")


def history(object_type: str, object_id: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type, object_id=object_id).order_by("id"))


def test_api_create_update_delete_are_recorded_with_actor_request_and_previous_values(
    owner: User, account: Account, food: Category, client_for: Any
) -> None:
    api = client_for(owner)
    created = api.post(
        "/api/v1/transactions/",
        {"account": account.pk, "date": "2024-03-01", "amount": "-30.00", "payee": "Market",
         "splits": [{"category": food.pk, "amount": "-20.00"}, {"category": food.pk, "amount": "-10.00", "memo": "x"}]},
        HTTP_X_REQUEST_ID="req-create",
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    tx_id = created.json()["id"]
    updated = api.patch(f"/api/v1/transactions/{tx_id}/", {"payee": "Farmers market"}, HTTP_X_REQUEST_ID="req-update")
    assert updated.status_code == 200, updated.json()

    entries = api.get(f"/api/v1/transactions/{tx_id}/history/").json()
    assert [entry["action"] for entry in entries] == ["update", "create"]  # newest first
    update, create = entries
    assert update["changes"] == {"payee": ["Market", "Farmers market"]}
    assert update["request_id"] == "req-update"
    assert update["actor"] == owner.username
    assert create["request_id"] == "req-create"
    assert create["changes"]["amount"] == "-30.00"  # Decimal as an exact string
    assert create["changes"]["date"] == "2024-03-01"
    assert create["changes"]["splits"] == [
        {"category": food.pk, "amount": "-20.00", "memo": ""},
        {"category": food.pk, "amount": "-10.00", "memo": "x"},
    ]

    assert api.delete(f"/api/v1/transactions/{tx_id}/", HTTP_X_REQUEST_ID="req-delete").status_code == 204
    assert not Transaction.objects.filter(pk=tx_id).exists()
    listed = api.get("/api/v1/audit/", {"object_type": "ledger.transaction", "object_id": tx_id}).json()["results"]
    assert [entry["action"] for entry in listed] == ["delete", "update", "create"]
    deleted = listed[0]
    assert deleted["request_id"] == "req-delete"
    assert deleted["changes"]["payee"] == "Farmers market"  # the row as it was, splits included
    assert len(deleted["changes"]["splits"]) == 2


def test_an_update_that_changes_nothing_records_nothing(owner: User, account: Account) -> None:
    account_services.account_update(account=account, name=account.name)
    assert not [entry for entry in history("ledger.account", account.pk) if entry.action == "update"]


def test_outsiders_get_404_for_history_and_see_no_entries(
    owner: User, outsider: User, account: Account, client_for: Any
) -> None:
    tx = tx_services.transaction_create(account=account, date=datetime.date(2024, 3, 1), amount="-5.00", user=owner)
    stranger = client_for(outsider)
    assert stranger.get(f"/api/v1/transactions/{tx.pk}/history/").status_code == 404
    listed = stranger.get("/api/v1/audit/", {"object_type": "ledger.transaction", "object_id": tx.pk}).json()
    assert listed["results"] == []
    assert stranger.get("/api/v1/audit/", {"household": account.household_id}).json()["results"] == []


def test_a_viewer_may_read_history(owner: User, viewer: User, account: Account, client_for: Any) -> None:
    tx = tx_services.transaction_create(account=account, date=datetime.date(2024, 3, 1), amount="-5.00", user=owner)
    response = client_for(viewer).get(f"/api/v1/transactions/{tx.pk}/history/")
    assert response.status_code == 200
    assert [entry["action"] for entry in response.json()] == ["create"]
    assert client_for(viewer).post("/api/v1/audit/", {}).status_code == 405


def test_accounts_categories_and_tags_are_recorded(household: Household) -> None:
    account = account_services.account_create(
        household=household, name="Cash", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    account_services.account_update(account=account, name="Wallet", opening_balance="12.50")
    category = account_services.category_create(household=household, name="Rent")
    tag = account_services.tag_create(household=household, name="holiday")
    account_id, tag_id = account.pk, tag.pk  # delete() clears pk
    account_services.tag_delete(tag=tag)
    account_services.account_delete(account=account)

    account_entries = history("ledger.account", account_id)
    assert [entry.action for entry in account_entries] == ["create", "update", "delete"]
    assert account_entries[1].changes == {"name": ["Cash", "Wallet"], "opening_balance": ["0.00", "12.50"]}
    assert account_entries[2].changes["name"] == "Wallet"
    assert [entry.action for entry in history("ledger.category", category.pk)] == ["create"]
    assert [entry.action for entry in history("ledger.tag", tag_id)] == ["create", "delete"]


def test_bulk_mark_cleared_records_one_entry_per_changed_row(
    household: Household, account: Account, owner: User
) -> None:
    pending = TransactionFactory.create_batch(3, account=account, status="pending")
    TransactionFactory(account=account, status="cleared")
    result = tx_services.transactions_mark_cleared(queryset=Transaction.objects.filter(account=account), user=owner)
    assert result.changed == 3
    entries = AuditEntry.objects.filter(object_type="ledger.transaction", action="update")
    assert sorted(entries.values_list("object_id", flat=True)) == sorted(tx.pk for tx in pending)
    assert {tuple(entry.changes["status"]) for entry in entries} == {("pending", "cleared")}
    assert {entry.actor_id for entry in entries} == {owner.pk}


def test_bulk_set_category_records_old_and_new_category(household: Household, account: Account, food: Category) -> None:
    tx = TransactionFactory(account=account)
    tx_services.transactions_set_category(queryset=Transaction.objects.filter(pk=tx.pk), category=food)
    (entry,) = history("ledger.transaction", tx.pk)
    assert entry.changes == {"category": [None, food.pk]}


def test_a_reconciliation_is_one_entry_naming_the_count(household: Household, account: Account) -> None:
    for amount in ("10.00", "-3.00"):
        tx_services.transaction_create(account=account, date=datetime.date(2024, 3, 1), amount=amount)
    reconciliation = tx_services.account_reconcile(
        account=account, statement_date=datetime.date(2024, 3, 31), statement_balance="7.00"
    )
    (entry,) = history("ledger.reconciliation", reconciliation.pk)
    assert entry.action == "create"
    assert entry.changes["transaction_count"] == 2
    assert not AuditEntry.objects.filter(object_type="ledger.transaction", action="update").exists()


def test_a_transfer_records_both_sides_and_their_deletion(household: Household, account: Account) -> None:
    savings = AccountFactory(household=household, name="Savings")
    transfer = tx_services.transfer_create(
        from_account=account, to_account=savings, date=datetime.date(2024, 3, 1), amount="50.00"
    )
    sides = list(transfer.transactions.order_by("id"))
    transfer_id = transfer.pk
    tx_services.transfer_delete(transfer=transfer)
    for side in sides:
        assert [entry.action for entry in history("ledger.transaction", side.pk)] == ["create", "delete"]
    assert [entry.action for entry in history("ledger.transfer", transfer_id)] == ["create", "delete"]


def test_memberships_are_recorded(household: Household) -> None:
    person = UserFactory(username="pat")
    membership = households.membership_set(household=household, user=person, role="viewer")
    households.membership_set(household=household, user=person, role="editor")
    membership_id = membership.pk
    households.membership_remove(membership=membership)
    entries = history("ledger.membership", membership_id)
    assert [entry.action for entry in entries] == ["create", "update", "delete"]
    assert entries[1].changes == {"role": ["viewer", "editor"]}
    assert all(entry.household_id == household.pk for entry in entries)


def test_an_import_is_one_entry_with_its_summary(household: Household, owner: User) -> None:
    entry = audit_record_import(
        household_id=household.pk, import_id=41, summary={"imported": 120, "duplicates": 3}, actor=owner
    )
    assert (entry.action, entry.object_type, entry.object_id) == ("import", "uploads.import", 41)
    assert entry.changes == {"imported": 120, "duplicates": 3}
    assert entry.actor == owner


def test_snapshot_is_json_safe() -> None:
    account = AccountFactory.build(opening_balance="10.50", opening_date=datetime.date(2024, 2, 29))
    data = snapshot(account)
    assert data["opening_balance"] == "10.50"
    assert data["opening_date"] == "2024-02-29"
    assert "updated_at" not in data


def test_the_admin_history_page_shows_audit_entries(staff_owner: User, account: Account) -> None:
    class AccountAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
        pass

    account_services.account_update(account=account, name="Joint checking")
    site = admin.site  # the themed base template reverses the real site's URLs
    request = RequestFactory().get("/")
    request.user = staff_owner
    response = AccountAdmin(Account, site).history_view(request, str(account.pk))
    assert isinstance(response, TemplateResponse)
    html = response.render().content.decode()
    assert "Joint checking" in html
    assert staff_owner.username in html
    assert 'id="audit-history"' in html


def test_the_history_page_shows_amounts_as_money(staff_owner: User, account: Account) -> None:
    class AccountAdmin(AuditHistoryAdminMixin, admin.ModelAdmin):
        pass

    account_services.account_update(account=account, opening_balance=Decimal("-1234.5"))
    request = RequestFactory().get("/")
    request.user = staff_owner
    response = AccountAdmin(Account, admin.site).history_view(request, str(account.pk))
    assert isinstance(response, TemplateResponse)
    html = response.render().content.decode()
    assert display_amount(Decimal("-1234.5"), account.currency) in html  # the real minus sign, grouped, with the code
    assert "-1234.50" not in html and "-1234.5000" not in html
