"""A name that must be unique is compared as Unicode compares it: "Café" composed (NFC) and decomposed (NFD, as
macOS and some keyboards write it) are one name, so the second is refused as a duplicate, through the API and
the admin alike, instead of two rows that look the same (two "Café" categories splitting one budget).

Generated from the models: every household-owned model with a unique `name`."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from django.apps import apps

from financetracker.core.tenancy import HouseholdOwned
from tests.factories import staff_client

pytestmark = pytest.mark.django_db

COMPOSED = unicodedata.normalize("NFC", "Café Crème")
DECOMPOSED = unicodedata.normalize("NFD", "Café Crème")

# How each model with a unique name is created through the API (the rest of a valid body).
API_CREATE: dict[str, tuple[str, dict[str, Any]]] = {
    "ledger.Tag": ("/api/v1/tags/", {}),
    "ledger.Category": ("/api/v1/categories/", {"kind": "expense"}),
    "ledger.Account": ("/api/v1/accounts/", {"currency": "EUR", "opening_date": "2024-01-01"}),
    "ledger.Rule": (
        "/api/v1/rules/",
        {"conditions": [{"field": "payee", "operator": "contains", "value": "x"}], "set_payee": "y"},
    ),
}
# Named by the person, but not through the API: a statement profile is saved by an import.
NOT_IN_THE_API = {"uploads.CsvProfile"}


def models_with_unique_names() -> set[str]:
    return {
        model._meta.label
        for model in apps.get_models()
        if issubclass(model, HouseholdOwned)
        and any("name" in getattr(constraint, "fields", ()) for constraint in model._meta.constraints)
    }


def test_every_unique_name_is_probed():
    assert models_with_unique_names() == set(API_CREATE) | NOT_IN_THE_API


@pytest.mark.parametrize("label", sorted(API_CREATE))
def test_a_decomposed_duplicate_of_a_name_is_refused_through_the_api(api, household, label):
    path, rest = API_CREATE[label]
    first = api.post(path, {"household": household.pk, "name": COMPOSED, **rest}, format="json")
    assert first.status_code == 201, first.content[:300]
    second = api.post(path, {"household": household.pk, "name": DECOMPOSED, **rest}, format="json")
    assert second.status_code == 400, second.content[:300]
    assert "already exists" in str(second.json()), second.content[:300]
    assert apps.get_model(label).objects.filter(household=household).filter(name__startswith="Caf").count() == 1


def test_an_exact_duplicate_rule_name_is_a_field_message_not_a_bare_conflict(api, household):
    path, rest = API_CREATE["ledger.Rule"]
    assert api.post(path, {"household": household.pk, "name": "Coffee", **rest}, format="json").status_code == 201
    second = api.post(path, {"household": household.pk, "name": "Coffee", **rest}, format="json")
    assert second.status_code == 400 and "already exists" in second.json()["name"][0]
    other = api.post(path, {"household": household.pk, "name": "Tea", **rest}, format="json").json()
    renamed = api.patch(f"{path}{other['id']}/", {"name": "Coffee"}, format="json")
    assert renamed.status_code == 400 and "already exists" in renamed.json()["name"][0]


def test_a_decomposed_name_is_stored_composed(api, household):
    created = api.post("/api/v1/tags/", {"household": household.pk, "name": DECOMPOSED}, format="json").json()
    assert created["name"] == COMPOSED


def test_a_decomposed_duplicate_is_refused_in_the_admin(owner, household):
    from ledger.models import Tag

    client = staff_client(owner)
    for name in (COMPOSED, DECOMPOSED):
        response = client.post("/admin/ledger/tag/add/", {"household": household.pk, "name": name})
    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert Tag.objects.filter(household=household, name__startswith="Caf").count() == 1
