"""Hypothesis profiles of the property tests. "ci" (the default) is bounded: 200 derandomized examples per
property, about a minute on an idle 2-core machine. `HYPOTHESIS_PROFILE=long` is the thorough run
(10,000 examples per property)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient

from ledger.models import User

_COMMON: dict[str, Any] = {
    "deadline": None,
    # One owner and API token per test function serve every example; each example's rows roll back.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    "database": None,
    "print_blob": True,
}
settings.register_profile(
    "ci", max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "200")), derandomize=True, **_COMMON
)
settings.register_profile(
    "debug", max_examples=30, derandomize=True, phases=[Phase.explicit, Phase.generate], **_COMMON
)
settings.register_profile("long", max_examples=10_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def owner_client(owner: User, client_for: Callable[[User], APIClient]) -> APIClient:
    """The owner's client with a real bearer token, made once per test function: a fixture is not set up
    again for each hypothesis example (called in the test's body, the token was one more row per example)."""
    return client_for(owner)
