"""Each service's editable-field declaration is the only list: the API, the admin and the service derive from it.

Structural both ways: every declared field is writable in the serializer, on the admin's add and change forms
and accepted by the service; a writable serializer field or an admin form field that is not declared fails.
The round trips then prove no declared value is dropped on its way through the API or the admin."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from rest_framework import serializers
from rest_framework.test import APIClient

from ledger.api.serializers import AccountSerializer, CategorySerializer, TagSerializer
from ledger.models import Account, Category, Household, Tag, User
from ledger.services import books as service
from tests.factories import staff_member
from tests.ledger.back_office import admin_url, login

pytestmark = pytest.mark.django_db

CASES = [
    pytest.param(Account, service.ACCOUNT_EDITABLE_FIELDS, AccountSerializer, id="account"),
    pytest.param(Category, service.CATEGORY_EDITABLE_FIELDS, CategorySerializer, id="category"),
    pytest.param(Tag, service.TAG_EDITABLE_FIELDS, TagSerializer, id="tag"),
]
OWNER = "household"  # set once on create (then read-only): which books a row is in, not a field of the row


def _writable(serializer: serializers.Serializer[Any]) -> set[str]:
    return {name for name, field in serializer.fields.items() if not field.read_only}


@pytest.mark.parametrize(("model", "declared", "serializer_class"), CASES)
def test_the_serializer_writes_and_reads_exactly_the_declared_fields(
    model: type[models.Model], declared: tuple[str, ...], serializer_class: type[serializers.Serializer[Any]]
) -> None:
    assert len(set(declared)) == len(declared)
    assert _writable(serializer_class()) == {OWNER, *declared}
    assert _writable(serializer_class(instance=model())) == set(declared)
    assert set(declared) <= set(serializer_class().fields)  # returned too


@pytest.mark.parametrize(("model", "declared", "serializer_class"), CASES)
def test_the_admin_forms_have_exactly_the_declared_fields(
    client: Client,
    owner: User,
    household: Household,
    model: type[models.Model],
    declared: tuple[str, ...],
    serializer_class: object,
) -> None:
    login(client, staff_member(owner))
    row = _create(model, household)
    name = str(model._meta.model_name)
    for url in (admin_url(name, "add"), admin_url(name, "change", row.pk)):
        response = client.get(url)
        assert response.status_code == 200, url
        form_fields = set(response.context["adminform"].form.fields)
        assert form_fields - {OWNER} == set(declared), url


def test_the_services_accept_every_declared_field_and_refuse_any_other(household: Household) -> None:
    values = _service_values()
    assert set(values) == set(service.ACCOUNT_EDITABLE_FIELDS)
    account = service.account_create(household=household, **values)
    assert {name: getattr(account, name) for name in values} == values
    service.account_update(account=account, **values)
    refusals: list[Callable[[], object]] = [
        lambda: service.account_create(household=household, **values, colour="red"),
        lambda: service.account_update(account=account, colour="red"),
        lambda: service.category_create(household=household, name="Food", colour="red"),
        lambda: service.category_update(category=Category.objects.earliest("pk"), colour="red"),
    ]
    service.category_create(household=household, name="Rent")
    for refuse in refusals:
        with pytest.raises(ValidationError, match=r"Unknown \w+ fields: colour"):
            refuse()


def test_every_declared_account_field_goes_through_the_api(
    client_for: Callable[[User], APIClient], owner: User
) -> None:
    api = client_for(owner)
    sent = {name: _json(value) for name, value in _service_values().items()}
    created = api.post("/api/v1/accounts/", sent, format="json")
    assert created.status_code == 201, created.json()
    assert {name: created.json()[name] for name in sent} == sent
    changed = {name: _json(value) for name, value in _service_values(changed=True).items()}
    patched = api.patch(f"/api/v1/accounts/{created.json()['id']}/", changed, format="json")
    assert patched.status_code == 200, patched.json()
    assert {name: patched.json()[name] for name in changed} == changed


def test_every_declared_account_field_goes_through_the_admin(client: Client, owner: User, household: Household) -> None:
    login(client, staff_member(owner))
    values = _service_values()
    post = {name: _form(value) for name, value in values.items() if value is not False}
    response = client.post(admin_url("account", "add"), {OWNER: household.pk, **post})
    assert response.status_code == 302, response.context["adminform"].form.errors
    account = Account.objects.get(household=household)
    assert {name: getattr(account, name) for name in values} == values
    changed = _service_values(changed=True)
    post = {name: _form(value) for name, value in changed.items() if value is not False}
    response = client.post(admin_url("account", "change", account.pk), {OWNER: household.pk, **post})
    assert response.status_code == 302, response.context["adminform"].form.errors
    account.refresh_from_db()
    assert {name: getattr(account, name) for name in changed} == changed


# --- values ---------------------------------------------------------------------------------------------


def _service_values(*, changed: bool = False) -> dict[str, Any]:
    """A value other than the model's default for every declared account field (so a drop shows).

    The fields whose values depend on each other are given; any other field gets one from its type, so a
    newly declared text, number or yes/no field is covered with nothing added here."""
    given: dict[str, Any] = {
        "name": "Joint" if changed else "Savings pot",
        "kind": "cash" if changed else "savings",
        "currency": "USD" if changed else "EUR",
        "opening_balance": Decimal("7.50") if changed else Decimal("12.34"),
        "opening_date": datetime.date(2024, 3, 4) if changed else datetime.date(2024, 2, 3),
    }
    values = {}
    for name in service.ACCOUNT_EDITABLE_FIELDS:
        if name in given:
            values[name] = given[name]
            continue
        field = Account._meta.get_field(name)
        if isinstance(field, models.BooleanField):
            values[name] = (not field.default) ^ changed
        elif isinstance(field, models.IntegerField):
            values[name] = 8 if changed else 7
        elif isinstance(field, models.CharField | models.TextField) and not field.choices:
            values[name] = f"{name} {'changed' if changed else 'set'}"
        else:
            raise AssertionError(f"give {name} ({type(field).__name__}) a value in _service_values")
    return values


def _json(value: object) -> object:
    return str(value) if isinstance(value, Decimal | datetime.date) else value


def _form(value: object) -> str:
    return "on" if value is True else str(value)


def _create(model: type[models.Model], household: Household) -> models.Model:
    if model is Account:
        return service.account_create(household=household, **_service_values())
    if model is Category:
        return service.category_create(household=household, name="Food")
    return service.tag_create(household=household, name="holiday")
