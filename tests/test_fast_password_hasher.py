"""The suite's own promise (tests/conftest.py): every password a test makes is hashed with the fast MD5
hasher, in every app's tests, while a production (Argon2) hash still verifies."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password, get_hasher, make_password

from ledger.models import User


@pytest.mark.django_db
def test_people_made_by_the_factories_get_the_fast_hash(owner: User, editor: User, outsider: User) -> None:
    for person in (owner, editor, outsider):
        assert person.password.startswith("md5$"), person.password[:10]
        assert person.check_password("correct horse battery staple")


def test_a_production_hash_still_verifies() -> None:
    production = make_password("secret", hasher=get_hasher("argon2"))
    assert production.startswith("argon2")
    assert check_password("secret", production)
