"""Every request body, JSON or form (application/x-www-form-urlencoded, multipart/form-data), is held to one rule:
a key that cannot be honoured is a 400 naming it, never dropped while the request succeeds.

Generated from the OpenAPI schema: every operation and every body type it documents, on the walls' seeded world
(tests/walls/world.py), as the household's owner.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from budgets.models import Budget
from ledger.models import Tag, Transaction
from tests.hardening.conftest import world_owner_client
from tests.walls.expectations import API
from tests.walls.routes import api_routes
from tests.walls.test_api_matrix import url_of
from tests.walls.world import World

pytestmark = pytest.mark.django_db

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
BODY_TYPES = ("application/json", *FORM_TYPES)
UNKNOWN = "no_such_field"


@pytest.fixture
def owner_client(world: World) -> APIClient:
    return world_owner_client(world, APIClient())


def body_operations() -> list[tuple[str, str, str]]:
    """(URL name, method, content type) of every request body type the schema documents."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    by_pattern = {route.pattern: name for name, route in api_routes().items()}
    found = []
    for path, item in schema["paths"].items():
        pattern = re.sub(r"\{(\w+)\}", r"<\1>", path).lstrip("/").replace("<id>", "<pk>")
        for method, operation in item.items():
            content = operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            found += [(by_pattern[pattern], method, kind) for kind in BODY_TYPES if kind in content]
    return found


def send_form(client: APIClient, method: str, url: str, kind: str, data: dict[str, str]):
    if kind == "application/json":
        return getattr(client, method)(url, data, format="json")
    if kind == "multipart/form-data":
        return getattr(client, method)(url, data, format="multipart")
    return client.generic(method.upper(), url, urlencode(data), content_type=kind)


def test_every_body_of_every_operation_refuses_an_unknown_key(world, owner_client):
    operations = body_operations()
    assert len(operations) > 60, operations  # every write operation documents JSON and both form types
    dropped = []
    for name, method, kind in operations:
        url = url_of(api_routes()[name], API[name], world.ours, world)
        response = send_form(owner_client, method, url, kind, {UNKNOWN: "1"})
        body = response.json() if response["Content-Type"].startswith("application/json") else {}
        if response.status_code != 400 or "Unknown field" not in str(body.get(UNKNOWN, "")):
            dropped.append(f"{method.upper()} {url} ({kind}): {response.status_code} {str(body)[:120]}")
    assert dropped == []


@pytest.mark.parametrize("kind", FORM_TYPES)
def test_a_misspelt_form_field_is_refused_and_nothing_is_stored(world, owner_client, kind):
    before = Transaction.objects.count()
    form = {"account": str(world.ours.ids["account"]), "date": "2024-03-01", "amount": "-1.00", "catgory": "1"}
    response = send_form(owner_client, "post", "/api/v1/transactions/", kind, form)
    assert response.status_code == 400, response.content[:300]
    assert "Unknown field" in response.json()["catgory"][0]
    assert Transaction.objects.count() == before


@pytest.mark.parametrize("kind", FORM_TYPES)
def test_a_read_only_field_in_a_form_update_is_refused_not_ignored(world, owner_client, kind):
    budget = world.ours.ids["budget"]
    response = send_form(owner_client, "patch", f"/api/v1/budgets/{budget}/", kind, {"month": "2024-05"})
    assert response.status_code == 400, response.content[:300]
    assert "read-only" in response.json()["month"][0]
    assert Budget.objects.get(pk=budget).month.month == 2  # the seeded line's month, unchanged
    tag = world.ours.ids["tag"]
    moved = send_form(
        owner_client, "patch", f"/api/v1/tags/{tag}/", kind, {"household": str(world.theirs.ids["household"])}
    )
    assert moved.status_code == 400 and "read-only" in moved.json()["household"][0]
    assert Tag.objects.get(pk=tag).household_id == world.ours.ids["household"]


def test_an_html_forms_csrf_token_and_nested_keys_are_still_read(world, owner_client):
    # The browsable API's form posts its CSRF token; a nested list is spelt splits[0]category, splits[0]amount.
    form = {
        "csrfmiddlewaretoken": "x",
        "account": str(world.ours.ids["account"]),
        "date": "2024-03-01",
        "amount": "-3.00",
        "splits[0]category": str(world.ours.ids["category"]),
        "splits[0]amount": "-3.00",
    }
    response = send_form(owner_client, "post", "/api/v1/transactions/", "multipart/form-data", form)
    assert response.status_code == 201, response.content[:300]
    assert response.json()["splits"][0]["amount"] == "-3.00"


@pytest.mark.parametrize("body", [b"name=caf\xe9", b"name=caf%E9", b"name=%ED%A0%80", b"na%FFme=x"], ids=repr)
def test_every_form_body_that_is_not_utf8_is_refused_not_guessed(world, owner_client, body):
    # Django read raw Latin-1 bytes as Latin-1 and an escape that decodes to nothing as U+FFFD: a name other
    # than the one sent was stored. Every operation that takes a urlencoded body refuses both.
    stored = []
    for name, method, kind in body_operations():
        if kind != "application/x-www-form-urlencoded":
            continue
        url = url_of(api_routes()[name], API[name], world.ours, world)
        response = owner_client.generic(method.upper(), url, body, content_type=kind)
        if response.status_code != 400 or "not valid utf-8" not in response.json().get("detail", ""):
            stored.append(f"{method.upper()} {url}: {response.status_code} {response.content[:100]!r}")
    assert stored == []


def test_a_utf8_form_body_still_reads_its_text(world, owner_client):
    body = f"household={world.ours.ids['household']}&name=caf%C3%A9+cr%C3%A8me".encode()
    response = owner_client.generic("POST", "/api/v1/tags/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201 and response.json()["name"] == "café crème"
