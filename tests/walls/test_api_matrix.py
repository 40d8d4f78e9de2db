"""The API's authorization matrix, generated from the URL configuration: every route, every method, as
anonymous, owner, editor, viewer and outsider, on rows of two households, in JSON and as browsable HTML.

For each call: the status follows the route's access rule (tests/walls/expectations.py); no body or header
carries another household's markers; a refused write changes nothing; and another household's id — in the
path, a filter, a report's `household` or a body field — answers exactly like an id that does not exist.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.walls.expectations import (
    API,
    CREATE,
    INVITEE,
    OWNER,
    PUBLIC,
    READ,
    SHARED_WRITE,
    SIGNED_IN,
    WRITE,
    Api,
)
from tests.walls.probe import Answer, api_call, leaked, normalized
from tests.walls.routes import API_DOCS, ApiRoute, api_routes, schema_operations
from tests.walls.world import MISSING_ID, PERSONAS, Seeded, World

pytestmark = pytest.mark.django_db

# Each persona's role in its own household (the outsider owns the other one).
ROLE = {"anonymous": "anonymous", "owner": "owner", "editor": "editor", "viewer": "viewer", "outsider": "owner"}
REFUSALS = {401, 403, 404, 405}


def test_every_api_route_and_schema_operation_has_an_expectation() -> None:
    routes = api_routes()
    declared = {(name, method) for name, route in routes.items() for method in route.methods}
    expected = {(name, method) for name, entry in API.items() for method in entry.methods}
    assert declared - expected == set(), "routes without an expectation: add them to tests/walls/expectations.py"
    assert expected - declared == set(), "expectations for routes that no longer exist"
    # The schema documents the same operations the URL configuration serves (docs pages aside).
    served = {
        (route.pattern, method) for route in routes.values() if route.name not in API_DOCS for method in route.methods
    }
    assert schema_operations() == served


def allowed(access: str, role: str, method: str, status: int) -> bool:
    if status >= 500:
        return False
    if access == PUBLIC:
        return status not in REFUSALS - {405} or (status == 405 and method != "get")
    if role == "anonymous":
        return status == 401
    if access == INVITEE:
        return status == 404
    if access == SHARED_WRITE:
        return status == 403
    if access in (SIGNED_IN, READ) and method == "get":
        return status == 200
    if access == CREATE and role == "viewer":
        return status in (400, 403)
    if (access == WRITE and role == "viewer") or (access == OWNER and role != "owner"):
        return status == 403
    return status not in REFUSALS


def url_of(route: ApiRoute, entry: Api, seeded: Seeded | None, world: World, missing: bool = False) -> str:
    path = "/" + route.pattern
    if entry.obj is not None:
        if entry.obj == "rate":
            value = world.rate_id
        else:
            value = MISSING_ID if missing or seeded is None else seeded.ids[entry.obj]
        path = path.replace("<pk>", str(value))
    for kwarg, key in entry.kwargs.items():
        value = MISSING_ID if missing or seeded is None else seeded.ids[key]
        path = path.replace(f"<{kwarg}>", str(value))
    query = dict(entry.query)
    if entry.scope is not None:
        query[entry.scope] = str(MISSING_ID if missing or seeded is None else seeded.ids[entry.scope])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def client_for(world: World, persona: str) -> APIClient:
    client = APIClient()
    user = world.people[persona]
    if user is not None:
        client.force_login(user)
    return client


def assert_same(a: Answer, b: Answer, ids: list[int], what: str) -> None:
    assert a.status == b.status, f"{what}: {a.status} for another household's id, {b.status} for a missing one"
    assert normalized(a.body, ids) == normalized(b.body, ids), f"{what}: the bodies differ"


@pytest.mark.parametrize("persona", PERSONAS)
def test_api_matrix(world: World, persona: str) -> None:
    client = client_for(world, persona)
    role = ROLE[persona]
    home = world.home_of(persona)
    other = world.other_of(persona)
    failures: list[str] = []
    baseline = world.fingerprints()

    def check(what: str, answer: Answer) -> None:
        if found := leaked(answer, world, persona):
            failures.append(f"{what}: shows another household's {found}")

    for name, route in sorted(api_routes().items()):
        entry = API[name]
        for method, access in sorted(entry.methods.items()):
            what = f"{persona} {method.upper()} {name}"
            body_home = {f: (home.ids[k] if home else MISSING_ID) for f, k in entry.body.items()}
            if entry.obj not in (None, "rate") or entry.scope is not None:
                # A row of the persona's household (none for anonymous).
                url = url_of(route, entry, home, world)
                answer = api_call(
                    client, method, url, body_home, watch=home.household.pk if home else None, baseline=baseline
                )
                check(what, answer)
                if not allowed(access, role, method, answer.status):
                    failures.append(f"{what} on its own household's row: {answer.status} {answer.body[:200]}")
                if answer.changed and (method == "get" or answer.status in REFUSALS):
                    failures.append(f"{what}: a refused or read-only call changed the books")
                # Another household's row answers as a missing one, and changes nothing.
                there = url_of(route, entry, other, world)
                theirs = api_call(client, method, there, body_home, watch=other.household.pk, baseline=baseline)
                missing = api_call(client, method, url_of(route, entry, None, world, missing=True), body_home)
                check(what, theirs)
                assert_same(
                    theirs,
                    missing,
                    [other.ids.get(entry.obj or "", 0), other.ids.get(entry.scope or "", 0), MISSING_ID]
                    + [other.ids[k] for k in entry.kwargs.values()],
                    what,
                )
                if theirs.status != (401 if role == "anonymous" else 404):
                    failures.append(f"{what} on another household's row: {theirs.status}, not a 404")
                if theirs.changed:
                    failures.append(f"{what} changed another household's books")
            else:
                url = url_of(route, entry, home, world)
                watched = home.household.pk if home is not None and role == "viewer" else other.household.pk
                answer = api_call(client, method, url, body_home, watch=watched, baseline=baseline)
                check(what, answer)
                if not allowed(access, role, method, answer.status):
                    failures.append(f"{what}: {answer.status} {answer.body[:200]}")
                if answer.changed:
                    failures.append(f"{what} changed books it may not change")
                for field_name, key in entry.body.items() if method == "post" else ():
                    ids = [other.ids[key], MISSING_ID]
                    theirs = api_call(
                        client, method, url, {field_name: ids[0]}, watch=other.household.pk, baseline=baseline
                    )
                    missing = api_call(client, method, url, {field_name: ids[1]})
                    check(what, theirs)
                    assert_same(theirs, missing, ids, f"{what} with {field_name}=<another household's>")
                    if theirs.changed:
                        failures.append(f"{what} with another household's {field_name} changed its books")
                for param, key in entry.filters.items() if method == "get" else ():
                    ids = [other.ids[key], MISSING_ID]
                    sep = "&" if "?" in url else "?"
                    theirs = api_call(client, "get", f"{url}{sep}{param}={ids[0]}")
                    missing = api_call(client, "get", f"{url}{sep}{param}={ids[1]}")
                    check(f"{what}?{param}=", theirs)
                    assert_same(theirs, missing, ids, f"{what}?{param}=<another household's id>")
            if method == "get":
                # The browsable API renders filter forms and related-field choices: they must be scoped too.
                for seeded in (home, other):
                    page = api_call(client, "get", url_of(route, entry, seeded, world), html=True)
                    check(f"{what} as HTML", page)
                    if page.status >= 500:
                        failures.append(f"{what} as HTML: {page.status}")
    assert not failures, "\n".join(failures)
    assert world.fingerprints() == baseline, "a call's writes outlived its savepoint"
