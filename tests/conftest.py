"""Shared fixtures: the personas every test reasons about, API clients, and the CI service guard.

Personas: `owner`, `editor` and `viewer` of `household`; `outsider` owns another household and must
never see, infer or touch anything of `household`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from rest_framework.test import APIClient

from financetracker.core.tenancy import forget_household_roles
from ledger.models import Household, Role, User
from ledger.services.households import household_delete, membership_set
from ledger.services.tokens import api_token_create
from tests.factories import Books, UserFactory, books_for, staff_member

Made = TypeVar("Made")


def pytest_sessionstart(session: pytest.Session) -> None:
    # Under CI a test that needs a service fails when it is missing: check both up front, loudly.
    if os.environ.get("CI", "").lower() == "true":
        for name in ("DATABASE_URL", "REDIS_URL"):
            if not os.environ.get(name):
                raise pytest.UsageError(f"CI=true but {name} is not set: the suite needs real services.")


# The files whose tests take the longest (the CI run's --durations), slowest first. They run before everything
# else, so under `-n auto --dist worksteal` (dev.py test) one worker starts on them while the other works through
# the many short tests and then takes the short tests left behind them: nobody starts a two-minute test with
# the rest of the suite done. A file's tests stay together (a worker sets up its module fixtures once, and the
# fault tests' template cluster is migrated by one worker, not both). A file missing here only runs later.
SLOWEST_FIRST = (
    "tests/reference/test_figures_match_reference.py",
    "tests/reference/test_schedules_and_reconciliation.py",
    "tests/hardening/test_schemathesis.py",
    "tests/faults/",
    "tests/walls/test_admin_matrix.py",
    "tests/walls/test_api_matrix.py",
    "tests/test_admin_personas.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        return next((i for i, prefix in enumerate(SLOWEST_FIRST) if item.nodeid.startswith(prefix)), len(SLOWEST_FIRST))

    items.sort(key=rank)  # stable: the order inside each file, and of all other tests, is kept


def require_tool(program: str, *, install_hint: str) -> str:
    """The path of an external program a test needs (Chromium, kubectl).

    Missing under CI=true: the test fails. Missing elsewhere: it is skipped with the install hint, so the
    Quick start's test command still runs everything else on a machine that has only Python.
    """
    found = program if "/" in program and Path(program).exists() else shutil.which(program)
    if found:
        return found
    message = f"{program} is not installed: {install_hint}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def clear_this_workers_cache() -> None:
    """Delete this test worker's cache keys only: a FLUSHDB would pull keys from under other workers."""
    delete_pattern = getattr(cache, "delete_pattern", None)
    if delete_pattern is not None:
        delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """Every test hashes passwords with MD5: Argon2 at production cost would dominate the suite's run time.

    The production hashers stay listed after it, so a hash made by a server process still verifies. Servers
    the fault tests start run with the real settings and never see this."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS]
    ):
        yield


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    # Throttles and cached values must not leak between tests.
    clear_this_workers_cache()


def check_deferred_constraints() -> None:
    """Fire the deferred constraint triggers and keys now, as the COMMIT the test never reaches would.

    Raises AssertionError naming the broken promise; does nothing outside a transaction (a transactional
    test commits, so PostgreSQL has checked already)."""
    if not connection.in_atomic_block or connection.needs_rollback:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except DatabaseError as error:
        raise AssertionError(f"The test left the books inconsistent; COMMIT would refuse: {error}") from error


@pytest.fixture(autouse=True)
def _deferred_constraints_hold(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test that writes through the database ends as a COMMIT would: deferred checks fire.

    The database fixture is set up from here, so its rollback runs after this fixture's check."""
    uses_db = "_django_db_helper" in request.fixturenames or request.node.get_closest_marker("django_db")
    if not uses_db:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    check_deferred_constraints()


@pytest.fixture(scope="session")
def live_server(live_server: Any) -> Any:
    """pytest-django's live server, answering with TCP_NODELAY on each connection, as Gunicorn does in production.

    Django's test server writes a response's status line, headers and body in separate small sends; with Nagle's
    algorithm on, each send after the first waits for the client's delayed ACK, about 40 ms: a small API request
    took 49 ms, 5 ms without it (schemathesis's time-bounded passes spent most of their budget waiting)."""
    server = live_server.thread.httpd
    accept = server.get_request

    def get_request() -> tuple[socket.socket, Any]:
        connection, address = accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address

    server.get_request = get_request
    return live_server


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory(username="olivia")


@pytest.fixture
def household(owner: User) -> Household:
    return Household.objects.get(memberships__user=owner)


def _member(household: Household, username: str, role: Role) -> User:
    """A new person (with the personal household sign-up gives everyone) who is also `role` in `household`."""
    user = UserFactory(username=username)
    membership_set(household=household, user=user, role=role)
    return user


@pytest.fixture
def editor(household: Household) -> User:
    return _member(household, "eddie", Role.EDITOR)


@pytest.fixture
def viewer(household: Household) -> User:
    return _member(household, "vera", Role.VIEWER)


@pytest.fixture
def outsider(db: None) -> User:
    return UserFactory(username="oscar")


@pytest.fixture
def outsider_household(outsider: User) -> Household:
    return Household.objects.get(memberships__user=outsider)


@dataclass(frozen=True)
class People:
    """The personas above, made once for a module (`people_once`)."""

    owner: User
    editor: User
    viewer: User
    outsider: User


def make_people() -> People:
    owner = UserFactory(username="olivia")
    home = Household.objects.get(memberships__user=owner)
    editor, viewer = _member(home, "eddie", Role.EDITOR), _member(home, "vera", Role.VIEWER)
    return People(owner, editor, viewer, UserFactory(username="oscar"))


@pytest.fixture(scope="module")
def people_once(django_db_setup: None, django_db_blocker: Any) -> Iterator[People]:
    """The four personas, made once for a module whose tests stand them in with `person_made_once`; the module's
    own module-scoped fixtures add its books to them (rows_made_once: all of it rolled back after the module)."""
    with rows_made_once(django_db_blocker, make_people) as people:
        yield people


def person_made_once(persona: str) -> Any:
    """A fixture for the module that assigns it (`owner = person_made_once("owner")`): the persona of that name
    from `people_once` instead of one made for each test, without the memo of household roles a test left."""

    @pytest.fixture(name=persona)
    def made_once(db: None, people_once: People) -> User:
        person: User = getattr(people_once, persona)
        forget_household_roles(person)
        return person

    return made_once


@pytest.fixture
def personas(owner: User, editor: User, viewer: User, outsider: User) -> dict[str, User]:
    """The four personas by name, each let into the admin (tests.factories.staff_member).

    The viewer loses the personal household sign-up gave them: a viewer who may write nowhere."""
    for person in (owner, editor, viewer, outsider):
        staff_member(person)
    household_delete(household=Household.objects.get(memberships__user=viewer, memberships__role=Role.OWNER))
    return {"owner": owner, "editor": editor, "viewer": viewer, "outsider": outsider}


@pytest.fixture
def staff_owner(owner: User) -> User:
    """The owner, let into the admin (tests.factories.staff_member)."""
    return staff_member(owner)


@pytest.fixture
def books(household: Household) -> Books:
    """The household's books (tests.factories.books_for): accounts, categories and a tag, no transactions."""
    return books_for(household)


def storages_in(directory: Path) -> dict[str, Any]:
    """The STORAGES setting with stored files (attachments, statements) in `directory`."""
    return {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(directory), "base_url": None},
        },
    }


@pytest.fixture
def uploads_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Stored files (attachments, statements) go to this test's temporary directory."""
    settings.STORAGES = storages_in(tmp_path / "uploads")


@contextlib.contextmanager
def rows_made_once(django_db_blocker: Any, make: Callable[[], Made]) -> Iterator[Made]:
    """What `make` returns, made once for a module's tests instead of for every test.

    The rows are made in a transaction of their own that is rolled back after the module's last test; each test
    runs in a savepoint inside it (the `db` fixture), so what a test writes is undone after it as before. Only
    for modules whose tests all run in a transaction: a transactional test would commit or flush the rows."""
    with django_db_blocker.unblock(), transaction.atomic():
        made = make()
        # The deferred checks fire as a COMMIT would, in a savepoint: SET CONSTRAINTS ALL IMMEDIATE ends with it,
        # so the tests' writes stay deferred until their own end (in the outer transaction it would last).
        with transaction.atomic():
            check_deferred_constraints()
            transaction.set_rollback(True)
        yield made
        transaction.set_rollback(True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """An API client authenticated with a real bearer token for the given person."""

    def make(user: User) -> APIClient:
        _token, secret = api_token_create(user=user, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make
