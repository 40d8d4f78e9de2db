"""Every registered admin page, every persona: generated from `admin.site._registry`, so a model any app
registers later is covered the day it appears.

Personas (tests/conftest.py `personas`): the household's owner, editor and viewer, and an outsider who owns a
household of their own. Each opens every changelist and add page with the status its role allows, and no
changelist shown to a member carries anything of the outsider's household.
"""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, override_settings
from django.urls import reverse

from budgets.services.budget_lines import budget_set
from budgets.services.schedules import scheduled_create
from ledger.models import Household, Role, User
from ledger.rules import rule_create
from ledger.services.households import household_delete, membership_set
from ledger.services.transactions import transaction_create
from tests.conftest import rows_made_once, storages_in
from tests.factories import UserFactory, books_for, staff_member
from uploads.services.attachments import attachment_create
from uploads.services.statement_imports import csv_profile_save, statement_import_upload

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "editor", "viewer", "outsider")
SECRET = "Zanzibar-secret"  # appears only in the outsider's household
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
REGISTERED: list[type[models.Model]] = sorted(admin.site._registry, key=lambda model: model._meta.label_lower)


def label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def admin_url(model: type[models.Model], view: str = "changelist") -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")


# The household rule: members read every list; owners and editors add, viewers may not (the outsider owns a
# household of their own, so may add there). Exceptions, each with its reason:
CHANGELIST_STATUS: dict[str, tuple[int, int, int, int]] = {
    # Groups are the site's permission sets: only superusers manage them.
    "auth.group": (403, 403, 403, 403),
    # Pending invitations are the writing roles' business: a viewer does not see who is invited.
    "ledger.invitation": (200, 200, 403, 200),
}
ADD_PAGE_STATUS: dict[str, tuple[int, int, int, int]] = {
    "auth.group": (403, 403, 403, 403),
    # Anyone may found a household, the viewer included.
    "ledger.household": (200, 200, 200, 200),
    # People join by accepting an invitation: nobody adds a membership or a person by name.
    "ledger.membership": (403, 403, 403, 403),
    "ledger.user": (403, 403, 403, 403),
    # A token is the person's own, whatever their roles.
    "ledger.apitoken": (200, 200, 200, 200),
    # The audit log is written by the services only.
    "ledger.auditentry": (403, 403, 403, 403),
    # An invitation is received, never added (it is sent from the household's members page).
    "ledger.receivedinvitation": (403, 403, 403, 403),
    # Exchange rates are shared reference data: only staff given the permission write them.
    "budgets.exchangerate": (403, 403, 403, 403),
    # Made by uploads and imports (a transaction's receipts, the import wizard), never added as rows here.
    "uploads.attachment": (403, 403, 403, 403),
    "uploads.csvprofile": (403, 403, 403, 403),
    "uploads.statementimport": (403, 403, 403, 403),
}
HOUSEHOLD_RULE = (200, 200, 403, 200)


def make_personas() -> dict[str, User]:
    """The four personas of tests/conftest.py `personas`, made the same way (sign-up, roles, admin access)."""
    owner, editor, viewer, outsider = (UserFactory(username=name) for name in ("olivia", "eddie", "vera", "oscar"))
    household = Household.objects.get(memberships__user=owner)
    membership_set(household=household, user=editor, role=Role.EDITOR)
    membership_set(household=household, user=viewer, role=Role.VIEWER)
    for person in (owner, editor, viewer, outsider):
        staff_member(person)
    household_delete(household=Household.objects.get(memberships__user=viewer, memberships__role=Role.OWNER))
    return {"owner": owner, "editor": editor, "viewer": viewer, "outsider": outsider}


def make_outsider_rows(outsider: User) -> None:
    """A row of every kind in the outsider's household, each named with SECRET."""
    outsider_household = Household.objects.get(memberships__user=outsider, memberships__role=Role.OWNER)
    books = books_for(outsider_household, prefix=SECRET)
    transaction_create(
        account=books.checking, date=datetime.date(2024, 3, 2), amount="-9.00", payee=SECRET, category=books.rent
    )
    rule_create(
        household=outsider_household,
        name=f"{SECRET} rule",
        conditions=[{"field": "payee", "operator": "contains", "value": "x"}],
        set_category=books.rent,
    )
    budget_set(household=outsider_household, category=books.rent, month=datetime.date(2024, 3, 1), amount="500")
    scheduled_create(
        household=outsider_household,
        account=books.checking,
        amount="-500.00",
        payee=SECRET,
        recurrence="FREQ=MONTHLY",
        start_date=datetime.date(2024, 1, 1),
    )
    attachment_create(household=outsider_household, upload=io.BytesIO(PDF), original_name=f"{SECRET}.pdf")
    statement_import_upload(
        account=books.checking, upload=io.BytesIO(b"Date,Payee,Amount\n"), original_name=f"{SECRET}.csv"
    )
    csv_profile_save(account=books.checking, name=f"{SECRET} profile", mapping={})


def personas_and_outsider_rows() -> dict[str, User]:
    people = make_personas()
    make_outsider_rows(people["outsider"])
    return people


@pytest.fixture(scope="module")
def personas(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, User]]:
    """The personas and the outsider's rows, made once for this module (tests/conftest.py rows_made_once): its
    tests only open pages. Replaces, for this module, tests/conftest.py `personas` (made per test)."""
    storages = storages_in(tmp_path_factory.mktemp("uploads"))
    with override_settings(STORAGES=storages), rows_made_once(django_db_blocker, personas_and_outsider_rows) as people:
        yield people


def test_the_matrix_covers_every_apps_admin() -> None:
    assert {model._meta.app_label for model in REGISTERED} >= {"ledger", "budgets", "uploads"}
    assert {"budgets.budget", "budgets.scheduledtransaction", "uploads.attachment", "uploads.statementimport"} <= {
        label(model) for model in REGISTERED
    }
    # Every exception names a model still registered: a stale entry would hide a gap.
    assert set(CHANGELIST_STATUS) | set(ADD_PAGE_STATUS) <= {label(model) for model in REGISTERED}


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_every_persona_opens_every_changelist_as_their_role_allows(
    client: Client, personas: dict[str, User], model: type[models.Model]
) -> None:
    expected = CHANGELIST_STATUS.get(label(model), (200, 200, 200, 200))
    statuses = []
    for persona in PERSONAS:
        client.force_login(personas[persona])
        statuses.append(client.get(admin_url(model)).status_code)
    assert tuple(statuses) == expected


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_every_persona_opens_every_add_page_as_their_role_allows(
    client: Client, personas: dict[str, User], model: type[models.Model]
) -> None:
    expected = ADD_PAGE_STATUS.get(label(model), HOUSEHOLD_RULE)
    statuses = []
    for persona in PERSONAS:
        client.force_login(personas[persona])
        statuses.append(client.get(admin_url(model, "add")).status_code)
    assert tuple(statuses) == expected


@pytest.mark.parametrize("model", REGISTERED, ids=label)
def test_no_members_changelist_shows_anything_of_another_household(
    client: Client, personas: dict[str, User], model: type[models.Model]
) -> None:
    for persona in ("owner", "editor", "viewer"):
        client.force_login(personas[persona])
        response = client.get(admin_url(model))
        if response.status_code != 200:
            continue  # refused outright (CHANGELIST_STATUS): nothing shown
        page = response.content.decode().lower()
        assert SECRET.lower() not in page, persona
        assert "oscar" not in page, persona  # not even the outsider's username


def test_the_outsiders_rows_exist_and_show_on_their_own_pages(client: Client, personas: dict[str, User]) -> None:
    # The negative test above is only as good as the rows it looks for: the outsider sees them all.
    client.force_login(personas["outsider"])
    hidden = [
        label(model)
        for model in REGISTERED
        if label(model) not in CHANGELIST_STATUS
        and label(model) not in {"ledger.user", "ledger.membership", "ledger.auditentry", "ledger.apitoken"}
        and label(model) not in {"ledger.household", "ledger.invitation", "ledger.receivedinvitation"}
        and label(model) not in {"ledger.transfer", "ledger.reconciliation", "budgets.exchangerate"}
        and SECRET.lower() not in client.get(admin_url(model)).content.decode().lower()
    ]
    assert hidden == []
