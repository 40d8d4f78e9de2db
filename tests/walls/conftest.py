"""Fixtures of the authorization matrix: the seeded two-household world, files in a temporary directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from financetracker.core.tenancy import forget_household_roles
from tests.conftest import rows_made_once, storages_in
from tests.walls.world import World, build_world


@pytest.fixture(autouse=True)
def _uploads_in_tmp(uploads_in_tmp: None) -> None:
    """Every test here stores files in its own temporary directory (tests/conftest.py)."""


@pytest.fixture(scope="module")
def world_once(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Path]]:
    """The world and the directory of its stored files, built once for a module (tests/conftest.py
    rows_made_once): a module's tests read it and roll back what they write."""
    files = tmp_path_factory.mktemp("world-uploads")
    with override_settings(STORAGES=storages_in(files)), rows_made_once(django_db_blocker, build_world) as built:
        yield built, files


@pytest.fixture
def world(db: None, uploads_in_tmp: None, tmp_path: Path, world_once: tuple[World, Path]) -> World:
    """The module's world for one test: its files copied into the test's own upload directory (a test that
    deletes one leaves it to the next), and no person's memo of household roles carried over."""
    built, files = world_once
    shutil.copytree(files, tmp_path / "uploads", dirs_exist_ok=True)
    for person in built.people.values():
        if person is not None:
            forget_household_roles(person)
    return built
