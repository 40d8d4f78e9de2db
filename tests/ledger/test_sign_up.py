"""Signing up is the one thing that gives a person a household; saving a User anywhere else creates none."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from ledger.models import Household, Membership, Role, User
from ledger.services.households import user_sign_up


def test_signing_up_creates_the_person_and_a_household_they_own(db: None) -> None:
    person = user_sign_up(username="nora", email="nora@example.test", password="a long passphrase here")
    assert person.check_password("a long passphrase here")
    (membership,) = Membership.objects.filter(user=person)
    assert membership.role == Role.OWNER
    assert membership.household.name == "nora's household"


def test_saving_a_user_elsewhere_creates_no_household(db: None) -> None:
    User.objects.create_user("plain", password="x")
    assert not Household.objects.filter(memberships__user__username="plain").exists()


def test_createsuperuser_creates_no_household(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "an operator passphrase")
    call_command("createsuperuser", "--noinput", "--username", "root", "--email", "root@example.test")
    assert User.objects.get(username="root").is_superuser
    assert not Membership.objects.filter(user__username="root").exists()


@pytest.mark.parametrize("with_household", [True, False])
def test_the_admins_add_person_page_signs_up_with_a_household_when_asked(
    db: None, client: Client, with_household: bool
) -> None:
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    client.force_login(root)
    form = {
        "username": "newbie",
        "password1": "Correct-horse-9",
        "password2": "Correct-horse-9",
        "usable_password": "true",
    }
    if with_household:
        form["personal_household"] = "on"
    response = client.post(reverse("admin:ledger_user_add"), form)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    owned = Household.objects.filter(memberships__user__username="newbie", memberships__role=Role.OWNER)
    assert owned.count() == (1 if with_household else 0)
