"""Uploads fixtures: storage in a temporary directory, an account to import into, and helpers."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.models import Account, Household, User
from tests.factories import AccountFactory
from uploads.models import StatementImport
from uploads.services.statement_imports import (
    statement_import_commit,
    statement_import_preview,
    statement_import_upload,
)

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(uploads_in_tmp: None) -> None:
    """Every test here stores files in its own temporary directory (tests/conftest.py)."""


@pytest.fixture
def account(household: Household) -> Account:
    return AccountFactory(household=household, name="Checking", currency="EUR")


@pytest.fixture
def outsider_account(outsider_household: Household) -> Account:
    return AccountFactory(household=outsider_household, name="Theirs", currency="EUR")


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


ImportFn = Callable[..., StatementImport]


@pytest.fixture
def import_bytes(owner: User) -> ImportFn:
    """Upload and preview bytes (optionally commit), through the same services as the API and the command."""

    def run(
        account: Account, data: bytes, *, name: str = "statement.csv", commit: bool = False, **options
    ) -> StatementImport:
        merge = options.pop("merge", ())
        ignore = options.pop("ignore", ())
        statement = statement_import_upload(
            account=account, upload=io.BytesIO(data), original_name=name, user=owner, **options
        )
        statement = statement_import_preview(statement_import=statement)
        if commit:
            statement = statement_import_commit(statement_import=statement, user=owner, merge=merge, ignore=ignore)
        return statement

    return run
