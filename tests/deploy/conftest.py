"""Fixtures for the deployment tests. Nothing here touches a database: the manifests are rendered with
`kubectl kustomize` and read with PyYAML."""

from __future__ import annotations

import pytest

from tests.conftest import require_tool
from tests.deploy.manifests import TARGETS, Obj, ensure_dev_secrets, render


@pytest.fixture(scope="session")
def renders() -> dict[str, tuple[list[Obj], str]]:
    require_tool("kubectl", install_hint="kubectl ≥ 1.27 renders the Kustomize manifests (the CI machines have it)")
    ensure_dev_secrets()
    return {name: render(path) for name, path in TARGETS.items()}


@pytest.fixture(params=sorted(TARGETS))
def target(request: pytest.FixtureRequest, renders: dict[str, tuple[list[Obj], str]]) -> tuple[str, list[Obj]]:
    return request.param, renders[request.param][0]
