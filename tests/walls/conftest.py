"""Fixtures of the authorization matrix: the seeded two-household world, files in a temporary directory."""

from __future__ import annotations

import pytest

from tests.walls.world import World, build_world


@pytest.fixture(autouse=True)
def _uploads_in_tmp(uploads_in_tmp: None) -> None:
    """Every test here stores files in its own temporary directory (tests/conftest.py)."""


@pytest.fixture
def world(db: None) -> World:
    return build_world()
