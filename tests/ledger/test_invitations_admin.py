"""Invitations in the back office: owners invite and revoke, the invited person accepts or declines, and
nobody is enlisted by name any more."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from ledger.models import Household, Invitation, InvitationStatus, Membership, Role, User
from ledger.services.invitations import invitation_create
from tests.factories import UserFactory, staff_member


def admin_url(model: str, view: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:ledger_{model}_{view}", args=args)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def post_invitation(client: Client, household: Household, name: str, role: str = Role.VIEWER) -> Any:
    return client.post(
        admin_url("invitation", "add"), {"household": household.pk, "invited_as": name, "role": role}, follow=True
    )


def test_owner_invites_in_the_admin_and_is_shown_the_code_once(
    client: Client, owner: User, household: Household, outsider: User
) -> None:
    response = post_invitation(login(client, staff_member(owner)), household, "oscar")
    assert response.status_code == 200
    assert len([message for message in messages_of(response) if re.search(r"fti_[\w-]{40,}", message)]) == 1
    invitation = Invitation.objects.get(household=household)
    assert (invitation.invited_as, invitation.role, invitation.status) == ("oscar", Role.VIEWER, "pending")
    assert not Membership.objects.filter(household=household, user=outsider).exists()


def test_the_admin_answers_alike_for_people_who_exist_and_do_not(
    client: Client, owner: User, household: Household, outsider: User
) -> None:
    login(client, staff_member(owner))
    pages = {name: post_invitation(client, household, name) for name in ("oscar", "nobody-at-all")}
    masked = {
        name: re.sub(r"fti_[\w-]+|/\d+/|nobody-at-all|oscar", "<x>", " ".join(messages_of(page)))
        for name, page in pages.items()
    }
    assert {page.status_code for page in pages.values()} == {200}
    assert masked["oscar"] == masked["nobody-at-all"]
    changelist = client.get(admin_url("invitation")).content.decode()
    assert "oscar@example.test" not in changelist
    detail = client.get(admin_url("invitation", "change", Invitation.objects.get(invited_as="oscar").pk))
    assert "oscar@example.test" not in detail.content.decode()
    assert "invitee" not in detail.context["adminform"].form.fields


@pytest.mark.parametrize("role", [Role.EDITOR, Role.VIEWER])
def test_editors_and_viewers_cannot_invite_to_the_household(
    client: Client, household: Household, role: str, owner: User
) -> None:
    person = UserFactory(username=f"member-{role}")
    from ledger.services.households import membership_set

    membership_set(household=household, user=person, role=role)
    invitation_create(household=household, invited_by=owner, invited_as="someone", role=Role.VIEWER)
    login(client, staff_member(person))
    post_invitation(client, household, "oscar")
    assert not Invitation.objects.filter(household=household, invited_as="oscar").exists()
    # Their own (personal) household's invitations are all they see; never this household's.
    listed = client.get(admin_url("invitation"))
    assert listed.status_code == 200
    assert "someone" not in listed.content.decode()


def test_a_viewer_without_a_household_of_their_own_gets_no_invitation_pages(
    client: Client, viewer: User, household: Household
) -> None:
    from ledger.services.households import household_delete

    household_delete(household=Household.objects.get(memberships__user=viewer, memberships__role=Role.OWNER))
    login(client, staff_member(viewer))
    assert client.get(admin_url("invitation")).status_code == 403
    assert client.get(admin_url("invitation", "add")).status_code == 403


def test_the_invitee_accepts_from_their_invitations_page(
    client: Client, owner: User, household: Household, outsider: User
) -> None:
    invitation, _code = invitation_create(household=household, invited_by=owner, invited_as="oscar", role=Role.EDITOR)
    other, _ = invitation_create(household=household, invited_by=owner, invited_as="bea", role=Role.EDITOR)
    UserFactory(username="bea")
    login(client, staff_member(outsider))
    page = client.get(admin_url("receivedinvitation"))
    assert page.status_code == 200
    assert list(page.context["cl"].result_list) == [invitation]
    assert escape(household.name) in page.content.decode()
    response = client.post(
        admin_url("receivedinvitation"),
        {"action": "accept_invitations", "_selected_action": [invitation.pk, other.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert Membership.objects.get(household=household, user=outsider).role == Role.EDITOR
    # Another person's invitation, slipped into the selection, is not answered.
    assert Invitation.objects.get(pk=other.pk).status == InvitationStatus.PENDING
    assert not Membership.objects.filter(household=household, user__username="bea").exists()


def test_the_invitee_declines_from_their_invitations_page(
    client: Client, owner: User, household: Household, outsider: User
) -> None:
    invitation, _code = invitation_create(household=household, invited_by=owner, invited_as="oscar", role=Role.EDITOR)
    # Staff without the household group may still answer their invitations.
    outsider.is_staff = True
    outsider.save(update_fields=["is_staff"])
    login(client, outsider)
    client.post(admin_url("receivedinvitation"), {"action": "decline_invitations", "_selected_action": [invitation.pk]})
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.DECLINED
    assert not Membership.objects.filter(household=household, user=outsider).exists()


def test_owner_revokes_a_pending_invitation_in_the_admin(client: Client, owner: User, household: Household) -> None:
    invitation, _code = invitation_create(household=household, invited_by=owner, invited_as="oscar", role=Role.EDITOR)
    login(client, staff_member(owner)).post(
        admin_url("invitation"), {"action": "revoke_invitations", "_selected_action": [invitation.pk]}
    )
    assert Invitation.objects.get(pk=invitation.pk).status == InvitationStatus.REVOKED


def test_the_membership_admin_adds_nobody_but_changes_roles(
    client: Client, owner: User, editor: User, household: Household
) -> None:
    login(client, staff_member(owner))
    assert client.get(admin_url("membership", "add")).status_code == 403
    membership = Membership.objects.get(household=household, user=editor)
    response = client.post(
        admin_url("membership", "change", membership.pk), {"household": household.pk, "role": Role.VIEWER}
    )
    assert response.status_code == 302
    assert Membership.objects.get(pk=membership.pk).role == Role.VIEWER
