"""The ledger API tests act as the household's owner: `client` is the owner's token-authenticated API client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from ledger.models import User


@pytest.fixture
def client(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(owner)
