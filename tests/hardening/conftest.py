"""Hostile-input fixtures: the owner's API client that reports server errors as responses, not exceptions, and the
walls' seeded world for the tests generated over every route and form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from rest_framework.test import APIClient

from ledger.models import Account, Household, User
from tests.factories import AccountFactory

# The uploads fixtures (storage in a temporary directory, import_bytes) for the rule tests on the import path.
from tests.uploads.conftest import _uploads_in_tmp, import_bytes  # noqa: F401

# The walls' seeded world, built once per module, for the tests generated over every route and form.
from tests.walls.conftest import world, world_once  # noqa: F401
from tests.walls.world import World

ClientT = TypeVar("ClientT", bound=Client)


@pytest.fixture
def account(household: Household) -> Account:
    return AccountFactory(household=household, name="Checking", currency="EUR")


@pytest.fixture
def api(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    """The owner's client; a 500 comes back as a response so a test can assert it is not one."""
    client = client_for(owner)
    client.raise_request_exception = False
    return client


def world_owner_client(seeded: World, client: ClientT) -> ClientT:
    """`client` logged in as the world's owner, who may also write exchange rates (shared reference data,
    written with their own permission); a 500 comes back as a response."""
    owner = seeded.person("owner")
    owner.user_permissions.add(*Permission.objects.filter(codename__endswith="_exchangerate"))
    client.force_login(owner)
    client.raise_request_exception = False
    return client
