"""Invitations in the API: a person joins a household only by accepting one, and the owner's answer never
tells whether the name they typed belongs to anyone."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ledger.models import AuditEntry, Household, Invitation, InvitationStatus, Membership, Role, User
from ledger.services.households import user_sign_up
from tests.factories import UserFactory

ClientFor = Callable[[User], APIClient]
# Fields whose values differ between any two invitations (ids, clocks, the random code).
VARYING = {"id", "code", "created_at", "expires_at"}


def invitations_url(household: Household) -> str:
    return f"/api/v1/households/{household.pk}/invitations/"


def invite(client: APIClient, household: Household, invitee: str, role: str = Role.EDITOR) -> Any:
    return client.post(invitations_url(household), {"invitee": invitee, "role": role}, format="json")


def comparable(body: dict[str, Any]) -> dict[str, Any]:
    """What an owner learns from an invitation besides its own ids, clocks and code."""
    return {key: ("<varies>" if key in VARYING else value) for key, value in body.items()}


@pytest.fixture
def owner_client(owner: User, client_for: ClientFor) -> APIClient:
    return client_for(owner)


# --- the whole flow ------------------------------------------------------------------------------------


def test_owner_invites_and_only_acceptance_makes_the_membership(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    response = invite(owner_client, household, "oscar", Role.EDITOR)
    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert response.json()["code"].startswith("fti_")
    assert not Membership.objects.filter(household=household, user=outsider).exists()

    invitee = client_for(outsider)
    pending = invitee.get("/api/v1/invitations/").json()["results"]
    assert [(item["household"], item["household_name"], item["role"], item["invited_by"]) for item in pending] == [
        (household.pk, household.name, Role.EDITOR, "olivia")
    ]
    accepted = invitee.post(f"/api/v1/invitations/{pending[0]['id']}/accept/")
    assert accepted.status_code == 200
    assert accepted.json()["username"] == "oscar"
    assert Membership.objects.get(household=household, user=outsider).role == Role.EDITOR
    assert invitee.get("/api/v1/invitations/").json()["results"] == []
    listed = owner_client.get(invitations_url(household)).json()
    assert [(item["invitee"], item["status"]) for item in listed] == [("oscar", "accepted")]
    assert invitee.get(f"/api/v1/households/{household.pk}/").status_code == 200


def test_the_invitee_may_decline_and_then_cannot_accept(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    invitation_id = invite(owner_client, household, "oscar").json()["id"]
    invitee = client_for(outsider)
    declined = invitee.post(f"/api/v1/invitations/{invitation_id}/decline/")
    assert declined.status_code == 200
    assert declined.json()["status"] == "declined"
    assert invitee.post(f"/api/v1/invitations/{invitation_id}/accept/").status_code == 409
    assert not Membership.objects.filter(household=household, user=outsider).exists()


def test_an_expired_invitation_is_not_listed_and_cannot_be_accepted(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    created = invite(owner_client, household, "oscar").json()
    Invitation.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    invitee = client_for(outsider)
    assert invitee.get("/api/v1/invitations/").json()["results"] == []
    refused = invitee.post(f"/api/v1/invitations/{created['id']}/accept/")
    assert refused.status_code == 409
    assert "expired" in refused.json()["detail"]
    assert invitee.post("/api/v1/invitations/accept/", {"code": created["code"]}, format="json").status_code == 409
    assert not Membership.objects.filter(household=household, user=outsider).exists()
    assert owner_client.get(invitations_url(household)).json()[0]["status"] == "expired"


def test_a_revoked_invitation_and_its_code_stop_working(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    created = invite(owner_client, household, "oscar").json()
    revoked = owner_client.post(f"{invitations_url(household)}{created['id']}/revoke/")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    invitee = client_for(outsider)
    assert invitee.get("/api/v1/invitations/").json()["results"] == []
    assert invitee.post(f"/api/v1/invitations/{created['id']}/accept/").status_code == 409
    assert invitee.post("/api/v1/invitations/accept/", {"code": created["code"]}, format="json").status_code == 409
    assert owner_client.post(f"{invitations_url(household)}{created['id']}/revoke/").status_code == 409
    assert not Membership.objects.filter(household=household, user=outsider).exists()


def test_inviting_the_same_name_again_replaces_the_pending_invitation(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    first = invite(owner_client, household, "oscar", Role.VIEWER).json()
    second = invite(owner_client, household, "OSCAR", Role.EDITOR)
    assert second.status_code == 201
    assert Invitation.objects.get(pk=first["id"]).status == InvitationStatus.REVOKED
    invitee = client_for(outsider)
    assert invitee.post("/api/v1/invitations/accept/", {"code": first["code"]}, format="json").status_code == 409
    assert [item["role"] for item in invitee.get("/api/v1/invitations/").json()["results"]] == [Role.EDITOR]


# --- no oracle: the owner's answer is the same whoever the name belongs to -------------------------------


def test_the_answer_is_the_same_whether_or_not_the_name_exists(
    owner_client: APIClient, household: Household, outsider: User, editor: User
) -> None:
    UserFactory(username="inactive-ines", is_active=False)
    names = {
        "a stranger": "oscar",
        "nobody": "no-such-person",
        "a member": "eddie",
        "an inactive person": "inactive-ines",
        "a stranger's e-mail": "oscar@example.test",
        "an unknown e-mail": "nobody@example.test",
    }
    answers = {label: invite(owner_client, household, name) for label, name in names.items()}
    assert {label: answer.status_code for label, answer in answers.items()} == dict.fromkeys(names, 201)
    shapes = {label: comparable({**answer.json(), "invitee": "<typed>"}) for label, answer in answers.items()}
    assert len({repr(shape) for shape in shapes.values()}) == 1, shapes
    for label, answer in answers.items():
        assert answer.json()["invitee"] == names[label]
        assert set(answer.headers) == set(answers["nobody"].headers)
    listed = owner_client.get(invitations_url(household)).json()
    assert len({repr(comparable({**item, "invitee": "<typed>"})) for item in listed}) == 1
    # What every member reads in the history says nothing about the person either.
    entries = AuditEntry.objects.filter(household=household, object_type="ledger.invitation")
    assert len({repr({**entry.changes, "expires_at": "<varies>"}) for entry in entries}) == 1
    assert not any("@" in entry.object_repr or "oscar" in entry.object_repr for entry in entries)


def test_reinviting_a_member_changes_nothing_until_they_answer(
    owner_client: APIClient, household: Household, editor: User, client_for: ClientFor
) -> None:
    created = invite(owner_client, household, "eddie", Role.OWNER)
    assert created.status_code == 201
    assert Membership.objects.get(household=household, user=editor).role == Role.EDITOR
    accepted = client_for(editor).post(f"/api/v1/invitations/{created.json()['id']}/accept/")
    assert accepted.status_code == 200
    # Roles change through the members route; an invitation never re-grants one.
    assert Membership.objects.get(household=household, user=editor).role == Role.EDITOR


def test_members_see_usernames_but_never_e_mails(
    household: Household, owner_client: APIClient, viewer: User, client_for: ClientFor
) -> None:
    invite(owner_client, household, "someone@example.test")
    for client in (owner_client, client_for(viewer)):
        page = client.get(f"/api/v1/households/{household.pk}/")
        assert {member["username"] for member in page.json()["members"]} == {"olivia", "vera"}
        assert "@" not in page.content.decode()
        assert "@" not in client.get("/api/v1/audit/").content.decode()


# --- who may do what -------------------------------------------------------------------------------------


def test_editors_and_viewers_cannot_invite_or_see_invitations(
    household: Household, editor: User, viewer: User, client_for: ClientFor, owner_client: APIClient
) -> None:
    invitation_id = invite(owner_client, household, "oscar").json()["id"]
    for person in (editor, viewer):
        client = client_for(person)
        assert invite(client, household, "someone").status_code == 403
        assert client.get(invitations_url(household)).status_code == 403
        assert client.post(f"{invitations_url(household)}{invitation_id}/revoke/").status_code == 403
    assert Invitation.objects.filter(household=household).count() == 1


def test_outsiders_get_the_answer_of_a_household_that_does_not_exist(
    household: Household, outsider: User, client_for: ClientFor, owner_client: APIClient
) -> None:
    invitation_id = invite(owner_client, household, "someone").json()["id"]
    client = client_for(outsider)
    missing = Household.objects.latest("pk").pk + 1000
    for path in ("invitations/", f"invitations/{invitation_id}/revoke/"):
        for method in ("get", "post"):
            theirs = getattr(client, method)(f"/api/v1/households/{household.pk}/{path}", {}, format="json")
            nowhere = getattr(client, method)(f"/api/v1/households/{missing}/{path}", {}, format="json")
            assert (theirs.status_code, theirs.json()) == (nowhere.status_code, nowhere.json())
            assert theirs.status_code in (404, 405)
    assert Invitation.objects.get(pk=invitation_id).status == InvitationStatus.PENDING


def test_nobody_sees_or_answers_someone_elses_invitation(
    household: Household, outsider: User, owner_client: APIClient, client_for: ClientFor
) -> None:
    invitation_id = invite(owner_client, household, "oscar").json()["id"]
    bystander = client_for(UserFactory(username="bea"))
    for client in (bystander, owner_client):
        assert client.get("/api/v1/invitations/").json()["results"] == []
        for suffix in ("", "accept/", "decline/"):
            method = client.get if not suffix else client.post
            theirs = method(f"/api/v1/invitations/{invitation_id}/{suffix}")
            nowhere = method(f"/api/v1/invitations/{invitation_id + 1000}/{suffix}")
            assert theirs.status_code == nowhere.status_code == 404
            assert theirs.json() == nowhere.json()
    assert not Membership.objects.filter(household=household, user__username="bea").exists()
    assert Invitation.objects.get(pk=invitation_id).status == InvitationStatus.PENDING


def test_anonymous_visitors_are_asked_to_authenticate(household: Household, api_client: APIClient) -> None:
    for method, url in [
        ("get", "/api/v1/invitations/"),
        ("post", "/api/v1/invitations/1/accept/"),
        ("post", "/api/v1/invitations/1/decline/"),
        ("post", "/api/v1/invitations/accept/"),
        ("get", invitations_url(household)),
        ("post", invitations_url(household)),
        ("post", f"{invitations_url(household)}1/revoke/"),
        ("patch", f"/api/v1/households/{household.pk}/members/1/"),
    ]:
        assert getattr(api_client, method)(url, {}, format="json").status_code == 401, url


@pytest.mark.parametrize("url", ["/api/v1/invitations/abc/", "/api/v1/invitations/1e3/accept/"])
def test_hostile_invitation_ids_are_404s(owner: User, client_for: ClientFor, url: str) -> None:
    for method in ("get", "post"):
        assert getattr(client_for(owner), method)(url).status_code == 404


# --- codes: for a person who had no account yet ------------------------------------------------------------


def test_a_code_lets_someone_who_signed_up_later_accept(
    owner_client: APIClient, household: Household, client_for: ClientFor
) -> None:
    code = invite(owner_client, household, "nell@example.test", Role.VIEWER).json()["code"]
    nell = user_sign_up(username="nell", email="Nell@Example.test")
    client = client_for(nell)
    assert client.get("/api/v1/invitations/").json()["results"] == []
    accepted = client.post("/api/v1/invitations/accept/", {"code": code}, format="json")
    assert accepted.status_code == 200
    assert Membership.objects.get(household=household, user=nell).role == Role.VIEWER


def test_a_code_opens_nothing_for_anyone_else(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    code = invite(owner_client, household, "oscar").json()["code"]
    stranger = client_for(UserFactory(username="sam"))
    theirs = stranger.post("/api/v1/invitations/accept/", {"code": code}, format="json")
    made_up = stranger.post("/api/v1/invitations/accept/", {"code": "fti_" + "x" * 43}, format="json")
    assert theirs.status_code == made_up.status_code == 404
    assert theirs.json() == made_up.json()
    assert stranger.post("/api/v1/invitations/accept/", {}, format="json").status_code == 400
    assert not Membership.objects.filter(household=household, user__username="sam").exists()
    assert client_for(outsider).post("/api/v1/invitations/accept/", {"code": code}, format="json").status_code == 200


# --- members: roles change, people leave, nobody is added by name --------------------------------------------


def test_nobody_is_added_to_a_household_by_username_any_more(
    owner_client: APIClient, household: Household, outsider: User
) -> None:
    response = owner_client.post(
        f"/api/v1/households/{household.pk}/members/", {"username": "oscar", "role": "viewer"}, format="json"
    )
    assert response.status_code in (404, 405)
    assert not Membership.objects.filter(household=household, user=outsider).exists()


def test_owners_change_roles_and_the_last_owner_stays(
    owner: User, owner_client: APIClient, household: Household, editor: User, viewer: User, client_for: ClientFor
) -> None:
    editing = Membership.objects.get(household=household, user=editor)
    url = f"/api/v1/households/{household.pk}/members/{editing.pk}/"
    changed = owner_client.patch(url, {"role": Role.VIEWER}, format="json")
    assert changed.status_code == 200
    assert changed.json()["role"] == Role.VIEWER
    assert "@" not in changed.content.decode()
    assert client_for(viewer).patch(url, {"role": Role.OWNER}, format="json").status_code == 403
    assert owner_client.patch(url, {"role": "admin"}, format="json").status_code == 400
    mine = Membership.objects.get(household=household, user=owner)
    demoted = owner_client.patch(
        f"/api/v1/households/{household.pk}/members/{mine.pk}/", {"role": Role.EDITOR}, format="json"
    )
    assert demoted.status_code == 409
    assert Membership.objects.get(pk=mine.pk).role == Role.OWNER
    assert owner_client.delete(url).status_code == 204
    assert not Membership.objects.filter(pk=editing.pk).exists()


def test_an_outsider_cannot_change_roles(
    household: Household, editor: User, outsider: User, client_for: ClientFor
) -> None:
    editing = Membership.objects.get(household=household, user=editor)
    url = f"/api/v1/households/{household.pk}/members/{editing.pk}/"
    assert client_for(outsider).patch(url, {"role": Role.OWNER}, format="json").status_code == 404
    assert Membership.objects.get(pk=editing.pk).role == Role.EDITOR


# --- the invitee's own books ---------------------------------------------------------------------------------


def accepted(owner_client: APIClient, household: Household, role: Role, oscars_client: APIClient) -> APIClient:
    """Oscar's client, after he accepted the owner's invitation into `household` as `role`."""
    invitation_id = invite(owner_client, household, "oscar", role).json()["id"]
    assert oscars_client.post(f"/api/v1/invitations/{invitation_id}/accept/").status_code == 200
    return oscars_client


def an_account(name: str, kind: str) -> dict[str, str]:
    return {"name": name, "currency": "EUR", "opening_date": "2024-01-01", "kind": kind}


@pytest.mark.parametrize(
    ("role", "accepts"),
    [(Role.EDITOR, False), (Role.VIEWER, True)],
    ids=[
        "a_pending_invitation_leaves_the_invitees_creates_alone",
        "accepting_as_a_viewer_keeps_one_writable_household",
    ],
)
def test_an_invitee_with_one_writable_household_creates_in_his_own(
    owner_client: APIClient,
    household: Household,
    outsider: User,
    outsider_household: Household,
    client_for: ClientFor,
    role: Role,
    accepts: bool,
) -> None:
    if accepts:
        client = accepted(owner_client, household, role, client_for(outsider))
    else:
        invite(owner_client, household, "oscar", role)
        client = client_for(outsider)
    created = client.post("/api/v1/accounts/", an_account("Wallet", "cash"), format="json")
    assert created.status_code == 201
    assert created.json()["household"] == outsider_household.pk


def test_after_accepting_creates_name_their_household(
    owner_client: APIClient, household: Household, outsider: User, client_for: ClientFor
) -> None:
    client = accepted(owner_client, household, Role.EDITOR, client_for(outsider))
    account = an_account("Joint", "checking")
    ambiguous = client.post("/api/v1/accounts/", account, format="json")
    assert ambiguous.status_code == 400
    assert "household" in ambiguous.json()
    named = client.post("/api/v1/accounts/", {**account, "household": household.pk}, format="json")
    assert named.status_code == 201
    assert named.json()["household"] == household.pk


def test_an_invitation_names_exactly_one_active_person_or_nobody(owner: User, household: Household) -> None:
    from ledger.services.invitations import invitation_create

    UserFactory(username="bob@home", email="bob@example.test")
    UserFactory(username="Twin", email="shared@example.test")
    UserFactory(username="twin", email="Shared@example.test")
    UserFactory(username="gone", is_active=False)

    def named(name: str) -> str | None:
        invitation, _code = invitation_create(household=household, invited_by=owner, invited_as=name, role=Role.VIEWER)
        return invitation.invitee.username if invitation.invitee else None

    assert named("bob@home") == "bob@home"
    assert named("BOB@EXAMPLE.TEST") == "bob@home"
    assert named("twin") == "twin"
    assert named("TWIN") is None  # two accounts differ only in case: nobody in particular
    assert named("shared@example.test") is None
    assert named("gone") is None
