"""Query parameters that cannot be honoured are a 400 naming them, never silently ignored: an `ordering` the list
cannot apply (`-nonexistent`, a typo), and a yes/no filter given something else (`?archived=ture` listed archived
and active rows alike).

Generated from the OpenAPI schema: every operation's `ordering` and boolean query parameters, on the walls' seeded
world (tests/walls/world.py), as the household's owner.
"""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.walls.expectations import API
from tests.walls.routes import api_routes
from tests.walls.test_api_matrix import url_of
from tests.walls.world import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner_client(world: World) -> APIClient:
    client = APIClient()
    client.force_login(world.person("owner"))
    client.raise_request_exception = False
    return client


def query_parameters(kind: str) -> list[tuple[str, str]]:
    """(URL name, parameter) of every GET operation's query parameter that is `ordering` or a boolean."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    by_pattern = {route.pattern: name for name, route in api_routes().items()}
    found = []
    for path, item in schema["paths"].items():
        pattern = re.sub(r"\{(\w+)\}", r"<\1>", path).lstrip("/").replace("<id>", "<pk>")
        for parameter in item.get("get", {}).get("parameters", []):
            is_boolean = parameter.get("schema", {}).get("type") == "boolean"
            if parameter["in"] == "query" and (parameter["name"] == "ordering" if kind == "ordering" else is_boolean):
                found.append((by_pattern[pattern], parameter["name"]))
    return found


def get(client: APIClient, world: World, name: str, query: str):
    url = url_of(api_routes()[name], API[name], world.ours, world)
    return client.get(f"{url}{'&' if '?' in url else '?'}{query}")


def test_every_ordering_parameter_refuses_a_field_it_cannot_apply_and_applies_the_ones_it_names(world, owner_client):
    lists = query_parameters("ordering")
    assert len(lists) >= 10, lists
    failures = []
    for name, _parameter in lists:
        for refused in ("-nonexistent", "amount,bogus", "\x00"):
            response = get(owner_client, world, name, f"ordering={refused}")
            message = response.json().get("ordering", [""])[0] if response.status_code == 400 else ""
            if "Cannot order by" not in message:
                failures.append(f"{name} ordering={refused!r}: {response.status_code} {response.content[:120]!r}")
                continue
            # The message names what the list can be ordered by; each of those (either way) is honoured.
            for field in message.split("Order by ")[1].split(" (")[0].split(", "):
                for term in (field, f"-{field}"):
                    if get(owner_client, world, name, f"ordering={term}").status_code != 200:
                        failures.append(f"{name} ordering={term}: refused though the message offers it")
    assert failures == []


def test_every_yes_no_filter_refuses_anything_but_yes_or_no(world, owner_client):
    filters = query_parameters("boolean")
    assert {"account-list", "transaction-list", "scheduled-list"} <= {name for name, _ in filters}, filters
    failures = []
    for name, parameter in filters:
        for refused in ("ture", "yes please", "2024-01-01", "\x00"):
            response = get(owner_client, world, name, f"{parameter}={refused}")
            if response.status_code != 400 or "yes/no" not in str(response.json().get(parameter)):
                failures.append(f"{name} {parameter}={refused!r}: {response.status_code}")
        for accepted in ("true", "false", "True", "1", "0", ""):
            if get(owner_client, world, name, f"{parameter}={accepted}").status_code != 200:
                failures.append(f"{name} {parameter}={accepted!r}: refused")
    assert failures == []


def test_an_archived_filter_given_a_typo_no_longer_lists_every_account(world, owner_client):
    response = owner_client.get("/api/v1/accounts/?archived=ture")
    assert response.status_code == 400
    assert "yes/no" in response.json()["archived"][0]


def test_ordering_transfers_by_a_field_of_their_sides_is_a_400_not_a_500(world, owner_client):
    # A transfer's amount and date are read from its two transactions: they were offered as ordering fields.
    for field in ("amount", "-date", "description", "status"):
        response = owner_client.get(f"/api/v1/transfers/?ordering={field}")
        assert response.status_code == 400, (field, response.status_code)
        assert "Order by id" in response.json()["ordering"][0]
