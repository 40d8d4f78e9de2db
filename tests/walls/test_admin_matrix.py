"""The admin's authorization matrix, generated from `admin.site`: every registered model's pages, every action
and every custom page, as anonymous, owner, editor, viewer and outsider, on rows of two households.

For each call: the status follows the page's access rule (tests/walls/admin_expectations.py); no page, list
filter, choice or redirect carries another household's markers; a refused write changes nothing; and another
household's id answers exactly like an id that does not exist (status, redirect and body).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.walls.admin_expectations import ADMIN, HIDDEN, NOBODY, SELF, AdminPage
from tests.walls.expectations import OWNER, PUBLIC, READ, SIGNED_IN, WRITE
from tests.walls.probe import Answer, call, leaked, normalized
from tests.walls.routes import admin_action_routes, admin_extra_routes, admin_standard_routes
from tests.walls.world import GLOBAL_KEYS, MISSING_ID, PERSONAS, Seeded, World

pytestmark = pytest.mark.django_db

ROLE = {"anonymous": "anonymous", "owner": "owner", "editor": "editor", "viewer": "viewer", "outsider": "owner"}
# Table entries that call an enumerated page a second way (the import map step's "?auto", an account's register).
VARIANTS = {"uploads_import_wizard_map:auto", "ledger_transaction_changelist:register"}


def test_every_admin_page_and_action_has_an_expectation() -> None:
    enumerated = admin_standard_routes() | admin_extra_routes() | admin_action_routes()
    table = set(ADMIN) - VARIANTS
    assert enumerated - table == set(), "admin pages without an expectation: add them to admin_expectations.py"
    assert table - enumerated == set(), "expectations for admin pages that no longer exist"


def allowed(access: str, role: str, method: str, status: int, is_action: bool, ok: tuple[int, ...] = (200,)) -> bool:
    if status >= 500:
        return False
    if role == "anonymous":
        return status == 200 if access == PUBLIC else status == 302
    if access == PUBLIC:
        return status in (200, 302)
    # An action the person may not run is not offered: Django redisplays the list (200) or redirects (302).
    refused = status in (200, 302, 403) if is_action else status == 403
    if access == HIDDEN:
        return status in (302, 403, 404)
    if access == NOBODY:
        return refused or status == 404  # (view_on_site: no model here has a public page)
    if (access == WRITE and role == "viewer") or (access == OWNER and role != "owner"):
        return refused
    if access == SELF and role != "owner":
        return status in (302, 403)  # the admin's answers for a row it does not show you
    if method == "get":
        return status in ok
    return status < 400


def first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"…{a[max(0, at - 80) : at + 80]!r} vs …{b[max(0, at - 80) : at + 80]!r}"


def refers_to_rows(page: AdminPage) -> list[str]:
    """The seeded rows a page's URL, query or form names (global rows aside)."""
    values = [page.obj or "", *page.kwargs.values(), *page.query.values(), *page.data.values()]
    return [key for key in values if key and not key.startswith("=") and key not in GLOBAL_KEYS]


def resolve(value: str, seeded: Seeded | None, missing: bool) -> str:
    if value.startswith("="):
        return value[1:]
    if seeded is None or (missing and value not in GLOBAL_KEYS):
        return str(MISSING_ID)
    return str(seeded.ids[value])


def url_of(name: str, page: AdminPage, seeded: Seeded | None, missing: bool = False) -> str:
    base = name.split(":")[0]
    args = [resolve(page.obj, seeded, missing)] if page.obj else []
    kwargs = {key: resolve(value, seeded, missing) for key, value in page.kwargs.items()}
    url = reverse(f"admin:{base}", args=args, kwargs=kwargs or None)
    if page.query:
        url += "?" + "&".join(f"{k}={resolve(v, seeded, missing)}" for k, v in page.query.items())
    return url


def admin_call(
    client: Client, method: str, name: str, page: AdminPage, seeded: Seeded | None, **options: Any
) -> Answer:
    missing = options.get("missing", False)
    url = url_of(name, page, seeded, missing)
    client.cookies.pop("messages", None)  # a message left by the previous call would show on this page
    data = {key: resolve(value, seeded, missing) for key, value in page.data.items()}
    if method == "get":
        return call(lambda: client.get(url), options.get("watch"), options.get("baseline"))
    return call(lambda: client.post(url, data), options.get("watch"), options.get("baseline"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_admin_matrix(world: World, persona: str) -> None:
    client = Client()
    user = world.people[persona]
    if user is not None:
        client.force_login(user)
    role = ROLE[persona]
    home, other = world.home_of(persona), world.other_of(persona)
    failures: list[str] = []
    baseline = world.fingerprints()

    for name, page in sorted(ADMIN.items()):
        is_action = ":" in name and name not in VARIANTS
        for method, access in (("get", page.get), ("post", page.post)):
            if access is None:
                continue
            what = f"{persona} {method.upper()} {name}"
            watch = home.household.pk if home is not None else world.ours.household.pk
            answer = admin_call(client, method, name, page, home, watch=watch, baseline=baseline)
            if found := leaked(answer, world, persona):
                failures.append(f"{what}: shows another household's {found}")
            if not allowed(access, role, method, answer.status, is_action, page.ok):
                failures.append(f"{what}: {answer.status} {answer.text[:300]}")
            may_write = access in (WRITE, OWNER, SELF, SIGNED_IN) and allowed(WRITE, role, "post", 302, False)
            if (access == OWNER and role != "owner") or access == NOBODY or access in (READ, PUBLIC):
                may_write = False
            if answer.changed and not may_write:
                failures.append(f"{what}: a refused or read-only call changed the books")
            if not refers_to_rows(page):
                continue
            theirs = admin_call(client, method, name, page, other, watch=other.household.pk, baseline=baseline)
            missing = admin_call(client, method, name, page, other, missing=True)
            if found := leaked(theirs, world, persona):
                failures.append(f"{what} on another household's row: shows its {found}")
            ids = [MISSING_ID, *(other.ids[key] for key in refers_to_rows(page))]
            seen = [(a.status, normalized(a.location, ids), normalized(a.body, ids)) for a in (theirs, missing)]
            if seen[0] != seen[1]:
                failures.append(
                    f"{what}: another household's row answers {seen[0][:2]} {first_difference(seen[0][2], seen[1][2])}, "
                    f"a missing one {seen[1][:2]}"
                )
            if theirs.changed:
                failures.append(f"{what} changed another household's books")
    assert not failures, "\n".join(failures)
    assert world.fingerprints() == baseline, "a call's writes outlived its savepoint"


def test_logging_out_of_the_admin_ends_the_session(world: World) -> None:
    client = Client()
    client.force_login(world.person("viewer"))
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.post(reverse("admin:logout")).status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302
