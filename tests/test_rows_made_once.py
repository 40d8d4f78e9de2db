"""Rows a module's tests share are made once (tests/conftest.py rows_made_once, people_once), yet every test
starts from them as they were made, and a test's deferred checks still wait for its end. The tests run in file
order, each checking what the one before it did."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from financetracker.core.tenancy import household_roles
from ledger.models import Household, Role, User
from ledger.services.households import household_create, membership_set
from tests.conftest import People, person_made_once

pytestmark = pytest.mark.django_db

owner = person_made_once("owner")
outsider = person_made_once("outsider")


def test_a_test_adds_a_household_and_a_role(owner: User, outsider: User) -> None:
    home = Household.objects.get(memberships__user=owner)
    household_create(owner=owner, name="Added by a test")
    membership_set(household=home, user=outsider, role=Role.VIEWER)
    assert household_roles(outsider)[home.pk] == Role.VIEWER  # remembered on the shared person object


def test_the_next_test_finds_the_people_as_they_were_made(owner: User, outsider: User, people_once: People) -> None:
    assert owner is people_once.owner
    assert not Household.objects.filter(name="Added by a test").exists()
    assert Household.objects.get(memberships__user=owner).pk not in household_roles(outsider)


@pytest.mark.parametrize("turn", [1, 2])
def test_each_test_still_defers_its_deferred_checks(people_once: People, turn: int) -> None:
    # SET CONSTRAINTS ALL IMMEDIATE after the shared rows were made, and at the end of the test before, must not
    # outlive its savepoint: a deferrable key broken mid-test is accepted until the check.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE parent (id int PRIMARY KEY)")
        cursor.execute("CREATE TEMPORARY TABLE child (parent_id int REFERENCES parent DEFERRABLE INITIALLY DEFERRED)")
        cursor.execute("INSERT INTO child VALUES (42)")  # raises here if the checks are immediate
        with pytest.raises(DatabaseError), transaction.atomic():
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.set_rollback(True)  # the broken row goes, so the test ends as consistent as it began
