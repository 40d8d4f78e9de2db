"""The rule admin and the history (audit) pages of the back office."""

from __future__ import annotations

from django.test import Client

from ledger.models import (
    AuditEntry,
    Household,
    Rule,
    Transaction,
    TransactionStatus,
    User,
)
from ledger.models.audit import AuditAction
from tests.factories import Books, HouseholdFactory, staff_member
from tests.ledger.back_office import admin_url, login, messages_of, messages_of_action, reconciled_transaction

# --- rules and history -------------------------------------------------------------------------------


def test_editor_adds_a_rule_with_tags_through_the_rules_service(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction, household: Household
) -> None:
    data = {
        "household": household.pk,
        "name": "Shop",
        "position": "1",
        "is_active": "on",
        "match": "all",
        "conditions": '[{"field": "payee", "operator": "contains", "value": "shop"}]',
        "set_category": books.travel.pk,
        "set_payee": "",
        "tag_links-TOTAL_FORMS": "1",
        "tag_links-INITIAL_FORMS": "0",
        "tag_links-MIN_NUM_FORMS": "0",
        "tag_links-MAX_NUM_FORMS": "1000",
        "tag_links-0-tag": books.holiday.pk,
    }
    response = login(client, personas["editor"]).post(admin_url("rule", "add"), data)
    assert response.status_code == 302
    rule = Rule.objects.get(household=household, name="Shop")
    assert list(rule.add_tags.all()) == [books.holiday]

    assert "Rules changed 1 transaction(s)." in messages_of_action(client, "apply_rules", [purchase])
    purchase.refresh_from_db()
    assert purchase.category == books.travel


def test_a_rule_with_bad_conditions_shows_the_error_on_the_form(
    client: Client, personas: dict[str, User], household: Household
) -> None:
    data = {
        "household": household.pk,
        "name": "Broken",
        "position": "1",
        "match": "all",
        "conditions": '[{"field": "colour", "operator": "is", "value": "red"}]',
        "set_payee": "X",
        "tag_links-TOTAL_FORMS": "0",
        "tag_links-INITIAL_FORMS": "0",
    }
    response = login(client, personas["editor"]).post(admin_url("rule", "add"), data)
    assert response.status_code == 200
    assert "field is one of" in str(response.context["adminform"].form.errors)
    assert not Rule.objects.filter(name="Broken").exists()


def test_history_pages_are_scoped(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    response = login(client, personas["viewer"]).get(admin_url("transaction", "history", purchase.pk))
    assert response.status_code == 200
    assert "Corner shop" in response.content.decode()


def test_a_history_page_shows_only_entries_filed_under_the_objects_household(
    client: Client, personas: dict[str, User], purchase: Transaction
) -> None:
    # An entry of another household naming the same object id (ids are never reused today; the page must
    # not rest on it): its request id and values stay out of this household's history.
    AuditEntry.objects.create(
        household=HouseholdFactory(),
        action=AuditAction.UPDATE,
        object_type="ledger.transaction",
        object_id=purchase.pk,
        request_id="other-household-request",
        changes={"payee": ["Their shop", "Their other shop"]},
    )
    page = login(client, personas["viewer"]).get(admin_url("transaction", "history", purchase.pk)).content.decode()
    assert "Corner shop" in page
    assert "other-household-request" not in page and "Their shop" not in page


def test_owner_deletes_a_whole_household_reconciled_history_included(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction, household: Household
) -> None:
    reconciled_transaction(books)
    refused = login(client, personas["editor"]).post(admin_url("household", "delete", household.pk), {"post": "yes"})
    assert refused.status_code == 403
    confirm = login(client, personas["owner"]).get(admin_url("household", "delete", household.pk))
    assert dict(confirm.context["model_count"])["transactions"] == 2
    assert not confirm.context["protected"]
    response = login(client, personas["owner"]).post(admin_url("household", "delete", household.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Transaction.objects.filter(pk=purchase.pk).exists()


def test_editor_un_reconciles_with_the_action_not_with_an_edit(
    client: Client, personas: dict[str, User], books: Books
) -> None:
    tx = reconciled_transaction(books)
    login(client, personas["editor"])
    page = client.get(admin_url("transaction", "change", tx.pk))
    assert [value for value, _label in page.context["adminform"].form.fields["status"].choices] == ["reconciled"]
    assert "Un-reconciled 1 transaction(s)." in messages_of_action(client, "unreconcile", [tx])
    tx.refresh_from_db()
    assert tx.status == TransactionStatus.CLEARED


def test_viewer_with_a_household_of_their_own_still_cannot_touch_the_one_they_view(
    client: Client, viewer: User, books: Books, purchase: Transaction
) -> None:
    # Unlike the `personas` viewer, this one keeps the personal household sign-up gave them, so the
    # actions are offered: they must change nothing outside that household.
    login(client, staff_member(viewer))
    selection = {"_selected_action": [purchase.pk]}
    response = client.post(admin_url("transaction"), {**selection, "action": "mark_cleared"}, follow=True)
    assert "Marked cleared 0 transaction(s)." in messages_of(response)
    client.post(
        admin_url("transaction"), {**selection, "action": "set_category", "apply": "1", "category": books.travel.pk}
    )
    client.post(admin_url("transaction"), {**selection, "action": "delete_selected", "post": "yes"})
    purchase.refresh_from_db()
    assert (purchase.status, purchase.category) == (TransactionStatus.PENDING, books.groceries)
    assert client.post(admin_url("transaction", "change", purchase.pk), {"payee": "x"}).status_code == 403
