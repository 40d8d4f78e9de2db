"""Fixtures of the authorization matrix: the seeded two-household world, files in a temporary directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.walls.world import World, build_world


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "uploads"), "base_url": None},
        },
    }


@pytest.fixture
def world(db: None) -> World:
    return build_world()
