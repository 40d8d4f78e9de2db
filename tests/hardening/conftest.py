"""Hostile-input fixtures: the owner's API client that reports server errors as responses, not exceptions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from ledger.models import Account, Household, User
from tests.factories import AccountFactory

# The uploads fixtures (storage in a temporary directory, import_bytes) for the rule tests on the import path.
from tests.uploads.conftest import _uploads_in_tmp, import_bytes  # noqa: F401


@pytest.fixture
def account(household: Household) -> Account:
    return AccountFactory(household=household, name="Checking", currency="EUR")


@pytest.fixture
def api(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    """The owner's client; a 500 comes back as a response so a test can assert it is not one."""
    client = client_for(owner)
    client.raise_request_exception = False
    return client
