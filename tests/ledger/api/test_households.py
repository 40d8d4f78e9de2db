"""Households and their members through /api/v1/households/, as their owner would."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from ledger.models import Household, Membership, Role, Transaction, User
from tests.factories import UserFactory
from tests.ledger.api.support import account, created, ok, transaction

pytestmark = pytest.mark.django_db


# --- Households and members ----------------------------------------------------------------------


def test_households_list_create_update_delete(client: APIClient, owner: User, household: Household) -> None:
    listed = ok(client.get("/api/v1/households/"))["results"]
    assert [row["id"] for row in listed] == [household.pk]
    assert listed[0]["role"] == "owner"
    assert listed[0]["members"][0]["username"] == owner.username

    new = created(
        client.post(
            "/api/v1/households/", {"name": "Holiday home", "base_currency": "CHF", "budget_month_start_day": 25}
        )
    )
    assert (new["role"], new["base_currency"], new["budget_month_start_day"]) == ("owner", "CHF", 25)
    assert ok(client.patch(f"/api/v1/households/{new['id']}/", {"name": "Chalet"}))["name"] == "Chalet"
    assert client.patch(f"/api/v1/households/{new['id']}/", {"budget_month_start_day": 29}).status_code == 400
    assert client.patch(f"/api/v1/households/{new['id']}/", {"base_currency": "XXX"}).status_code == 400
    assert client.delete(f"/api/v1/households/{new['id']}/").status_code == 204
    assert not Household.objects.filter(pk=new["id"]).exists()


def test_deleting_a_household_deletes_its_books(client: APIClient, household: Household) -> None:
    checking, savings = account(client, "Checking"), account(client, "Savings")
    transaction(client, checking["id"])
    created(
        client.post(
            "/api/v1/transfers/",
            {"from_account": checking["id"], "to_account": savings["id"], "date": "2024-02-01", "amount": "5.00"},
        )
    )
    created(
        client.post(
            f"/api/v1/accounts/{checking['id']}/reconcile/",
            {"statement_date": "2024-02-01", "statement_balance": "-6.00"},
        )
    )
    assert client.delete(f"/api/v1/households/{household.pk}/").status_code == 204
    assert not Transaction.objects.exists()


def test_members_join_by_invitation_change_role_and_are_removed(
    client: APIClient, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    friend = UserFactory(username="fred")
    invitation = created(
        client.post(f"/api/v1/households/{household.pk}/invitations/", {"invitee": "fred", "role": "viewer"})
    )
    assert not Membership.objects.filter(user=friend, household=household).exists()
    joined = ok(client_for(friend).post(f"/api/v1/invitations/{invitation['id']}/accept/"))
    assert (joined["username"], joined["role"]) == ("fred", "viewer")
    changed = ok(client.patch(f"/api/v1/households/{household.pk}/members/{joined['id']}/", {"role": "editor"}))
    assert changed["id"] == joined["id"]
    assert Membership.objects.get(user=friend, household=household).role == Role.EDITOR
    assert client.delete(f"/api/v1/households/{household.pk}/members/{joined['id']}/").status_code == 204
    assert not Membership.objects.filter(user=friend, household=household).exists()


def test_member_changes_refuse_unknown_members_and_roles(client: APIClient, owner: User, household: Household) -> None:
    mine = Membership.objects.get(user=owner, household=household)
    assert client.patch(f"/api/v1/households/{household.pk}/members/{mine.pk}/", {"role": "admin"}).status_code == 400
    assert client.patch(f"/api/v1/households/{household.pk}/members/999999999/", {"role": "owner"}).status_code == 404
    assert client.delete(f"/api/v1/households/{household.pk}/members/999999999/").status_code == 404
    assert (
        client.post(f"/api/v1/households/{household.pk}/invitations/", {"invitee": "fred", "role": "admin"}).status_code
        == 400
    )


def test_the_last_owner_cannot_leave_or_step_down(client: APIClient, owner: User, household: Household) -> None:
    mine = Membership.objects.get(user=owner, household=household)
    assert client.patch(f"/api/v1/households/{household.pk}/members/{mine.pk}/", {"role": "viewer"}).status_code == 409
    assert client.delete(f"/api/v1/households/{household.pk}/members/{mine.pk}/").status_code == 409
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER


def test_a_member_may_leave_a_household(
    editor: User, household: Household, client_for: Callable[[User], APIClient]
) -> None:
    membership = Membership.objects.get(user=editor, household=household)
    assert client_for(editor).delete(f"/api/v1/households/{household.pk}/members/{membership.pk}/").status_code == 204
