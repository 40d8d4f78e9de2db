"""The walls' world is built once for a module (tests/walls/conftest.py world_once), yet every test starts from
it as it was built: what an earlier test changed, deleted or removed from storage is back, and no person object
remembers the roles an earlier test gave it. The tests run in file order, the second checking the first."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from financetracker.core.tenancy import household_roles
from ledger.models import Account, Household, Role
from ledger.services.households import membership_set
from tests.walls.world import World
from uploads.models import Attachment

pytestmark = pytest.mark.django_db


def stored_attachment(world: World) -> tuple[Attachment, str]:
    attachment = Attachment.objects.get(pk=world.ours.ids["attachment"])
    assert attachment.file.name
    return attachment, attachment.file.name


def test_a_test_changes_deletes_and_unstores_the_shared_rows(world: World) -> None:
    owner, outsider = world.person("owner"), world.person("outsider")
    Account.objects.filter(pk=world.ours.ids["account"]).update(name="Changed by a test")
    attachment, name = stored_attachment(world)
    default_storage.delete(name)
    attachment.delete()
    home = Household.objects.get(memberships__user=owner)
    membership_set(household=home, user=outsider, role=Role.VIEWER)
    assert household_roles(outsider)[home.pk] == Role.VIEWER  # remembered on the shared person object


def test_the_next_test_finds_them_as_they_were_made(world: World) -> None:
    owner, outsider = world.person("owner"), world.person("outsider")
    assert Account.objects.get(pk=world.ours.ids["account"]).name != "Changed by a test"
    _attachment, name = stored_attachment(world)
    assert default_storage.exists(name)
    with default_storage.open(name) as stored:
        assert stored.read().startswith(b"%PDF")
    assert not Household.objects.filter(memberships__user=outsider).exclude(memberships__role=Role.OWNER).exists()
    assert Household.objects.get(memberships__user=owner).pk not in household_roles(outsider)
