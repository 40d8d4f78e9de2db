"""The back office: roles decide writes (viewers change nothing), and writes go through the services."""

from __future__ import annotations

from django.test import Client

from ledger.models import (
    Account,
    Household,
    Membership,
    Role,
    Transaction,
    TransactionStatus,
    User,
)
from tests.factories import Books, UserFactory
from tests.ledger.back_office import admin_url, form_data, login, messages_of

# --- roles decide writes -----------------------------------------------------------------------------


def test_viewer_cannot_change_anything(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    login(client, personas["viewer"])
    page = client.get(admin_url("account", "change", books.checking.pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()

    for model, obj, data in [
        ("account", books.checking, {"name": "Renamed", "kind": "checking"}),
        ("category", books.travel, {"name": "Renamed", "kind": "expense"}),
        ("tag", books.holiday, {"name": "renamed"}),
        ("transaction", purchase, {"payee": "Renamed"}),
    ]:
        assert client.post(admin_url(model, "change", obj.pk), data).status_code == 403
        assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    books.checking.refresh_from_db()
    assert books.checking.name == "Checking"
    assert Transaction.objects.filter(pk=purchase.pk, payee="Corner shop").exists()


def test_viewer_cannot_run_bulk_actions(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    response = login(client, personas["viewer"]).post(
        admin_url("transaction"), {"action": "mark_cleared", "_selected_action": [purchase.pk]}
    )
    # The action is not offered to a viewer, so Django refuses the choice ("No action selected").
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert purchase.status == TransactionStatus.PENDING


def test_editor_changes_an_account_through_the_form(client: Client, personas: dict[str, User], books: Books) -> None:
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("account", "change", books.checking.pk)))
    data["name"] = "Main checking"
    response = client.post(admin_url("account", "change", books.checking.pk), data)
    assert response.status_code == 302
    books.checking.refresh_from_db()
    assert books.checking.name == "Main checking"


def test_it_shows_service_validation_errors_on_the_form(
    client: Client, personas: dict[str, User], books: Books, household: Household
) -> None:
    login(client, personas["editor"])
    response = client.post(
        admin_url("account", "add"),
        {
            "household": household.pk,
            "name": "Yen",
            "kind": "cash",
            "currency": "JPY",
            "opening_balance": "10.50",
            "opening_date": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert "JPY amounts take no decimal places" in str(response.context["adminform"].form.errors)
    assert not Account.objects.filter(name="Yen").exists()


def test_nobody_adds_a_member_by_name_in_the_admin(
    client: Client, personas: dict[str, User], household: Household
) -> None:
    newcomer = UserFactory(username="nina")
    data = {"household": household.pk, "user": "nina", "role": Role.VIEWER}
    for persona in ("owner", "editor"):
        assert login(client, personas[persona]).post(admin_url("membership", "add"), data).status_code == 403
    assert not Membership.objects.filter(user=newcomer, household=household).exists()


def test_the_last_owner_cannot_leave(client: Client, personas: dict[str, User], household: Household) -> None:
    membership = Membership.objects.get(household=household, user=personas["owner"])
    response = login(client, personas["owner"]).post(
        admin_url("membership", "delete", membership.pk), {"post": "yes"}, follow=True
    )
    assert "at least one owner" in " ".join(messages_of(response))
    assert Membership.objects.filter(pk=membership.pk).exists()
