"""Each service's editable-field declaration is the only list: the API, the admin and the service derive from it.

Generated from every declaration made (ledger.editable_fields.DECLARATIONS), structural both ways: every
declared field is writable in the API serializer, on the admin's add (and change) form and accepted by the
service, which refuses any other name with a clear error; a writable serializer field or an admin form model
field that is not declared fails. A new declaration without an API serializer, an admin and a service entry
in SERVICES below fails too. The round trips then prove no declared value is dropped on its way through the
API or the admin, and the derivation tests that the serializers, admin forms and exports read the declaration.
"""

from __future__ import annotations

import csv
import datetime
import inspect
import io
import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.test import Client
from django.urls import get_resolver, reverse
from rest_framework import serializers
from rest_framework.test import APIClient

from budgets.models import Budget, ExchangeRate, ScheduledTransaction
from budgets.services import budget_lines, rates, schedules
from ledger import editable_fields, rules
from ledger.api.invitations import InvitationCreateSerializer
from ledger.api.serializers import AccountSerializer, TransactionSerializer
from ledger.editable_fields import DECLARATIONS, EditableFields
from ledger.models import Account, Category, Household, Invitation, Role, Rule, Tag, Transaction, Transfer, User
from ledger.services import accounts_categories_tags as service
from ledger.services import households, invitations
from ledger.services import transactions as tx_services
from tests.factories import Books, TransactionFactory, books_for, staff_member
from tests.ledger.back_office import admin_url, login
from uploads import exports
from uploads.household_io import household_export

pytestmark = pytest.mark.django_db

OWNER = "household"  # set once on create (then read-only): which books a row is in, not a field of the row
DAY = datetime.date(2024, 2, 3)
# Serializers of nested routes, whose owner is the household in the URL (households/{id}/invitations/).
OWNER_FROM_THE_URL = {InvitationCreateSerializer}

# --- the service behind each declaration: create(books, owner, **fields) and update(row, **fields) ----------

Create = Callable[..., models.Model]
Update = Callable[..., models.Model] | None


def _rule(b: Books, _: User, **fields: Any) -> Rule:
    condition = [{"field": "payee", "operator": "contains", "value": "shop"}]
    return rules.rule_create(
        household=b.household, **{"name": "Shops", "conditions": condition, "set_payee": "Shop", **fields}
    )


SERVICES: dict[type[models.Model], tuple[Create, Update]] = {
    Account: (
        lambda b, _, **f: service.account_create(household=b.household, **{**_service_values(), **f}),
        lambda row, **f: service.account_update(account=row, **f),
    ),
    Category: (
        lambda b, _, **f: service.category_create(household=b.household, **{"name": "Fun", **f}),
        lambda row, **f: service.category_update(category=row, **f),
    ),
    Tag: (
        lambda b, _, **f: service.tag_create(household=b.household, **{"name": "fun", **f}),
        lambda row, **f: service.tag_update(tag=row, **f),
    ),
    Transaction: (
        lambda b, _, **f: tx_services.transaction_create(
            **{"account": b.checking, "date": DAY, "amount": "-1.00", **f}
        ),
        lambda row, **f: tx_services.transaction_update(transaction_obj=row, **f),
    ),
    Transfer: (
        lambda b, _, **f: tx_services.transfer_create(
            **{"from_account": b.checking, "to_account": b.savings, "date": DAY, "amount": "5.00", **f}
        ),
        None,  # each side is then edited as a transaction
    ),
    Rule: (_rule, lambda row, **f: rules.rule_update(rule=row, **f)),
    Household: (
        lambda b, owner, **f: households.household_create(owner=owner, **{"name": "Second home", **f}),
        lambda row, **f: households.household_update(household=row, **f),
    ),
    Invitation: (
        lambda b, owner, **f: invitations.invitation_create(
            household=b.household, invited_by=owner, **{"invited_as": "someone", "role": Role.VIEWER, **f}
        )[0],
        None,  # answered or revoked, never edited
    ),
    Budget: (
        lambda b, _, **f: budget_lines.budget_set(
            household=b.household, **{"category": b.groceries, "month": DAY, "amount": "10.00", **f}
        ),
        lambda row, **f: budget_lines.budget_update(budget=row, **f),
    ),
    ScheduledTransaction: (
        lambda b, _, **f: schedules.scheduled_create(
            household=b.household,
            **{"account": b.checking, "amount": "-5.00", "recurrence": "FREQ=MONTHLY", "start_date": DAY, **f},
        ),
        lambda row, **f: schedules.scheduled_update(scheduled=row, **f),
    ),
    ExchangeRate: (
        lambda b, _, **f: rates.exchange_rate_create(
            **{"date": DAY, "base": "EUR", "quote": "USD", "rate": "1.1", **f}
        ),
        lambda row, **f: rates.exchange_rate_update(exchange_rate=row, **f),
    ),
}


def _declarations() -> list[EditableFields]:
    assert get_resolver().url_patterns  # every API module (and so every service) imported; the admin is autodiscovered
    return list(DECLARATIONS)


ALL = [pytest.param(declaration, id=declaration.model.__name__) for declaration in _declarations()]


def test_every_service_that_takes_fields_declares_them() -> None:
    declared = {declaration.model for declaration in DECLARATIONS}
    assert declared == set(SERVICES), "a declaration needs its service in SERVICES (and a service its declaration)"
    assert len(declared) == len(DECLARATIONS), "one declaration per model"


# --- the API ------------------------------------------------------------------------------------------------


def _subclasses(cls: type) -> Iterator[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _serializers_of(declaration: EditableFields) -> list[type[serializers.Serializer[Any]]]:
    """The serializers that write `declaration`: model serializers of its model, or those naming it."""
    found = []
    for cls in set(_subclasses(serializers.Serializer)):
        if cls.__module__.split(".")[0] not in {"ledger", "budgets", "uploads"}:
            continue
        meta = getattr(cls, "Meta", None)
        names_it = getattr(cls, "editable", None) is declaration
        if names_it or (getattr(meta, "model", None) is declaration.model and _writable(cls())):
            found.append(cls)  # (a model serializer that writes nothing only shows rows)
    return found


def _writable(serializer: serializers.Serializer[Any]) -> set[str]:
    """Writable fields by what they set (`invitee` sets the service's `invited_as`)."""
    return {str(field.source) for field in serializer.fields.values() if not field.read_only}


@pytest.mark.parametrize("declaration", ALL)
def test_the_api_writes_exactly_the_declared_fields(declaration: EditableFields) -> None:
    found = _serializers_of(declaration)
    assert found, f"no API serializer writes {declaration}"
    for serializer_class in found:
        on_create = _writable(serializer_class())
        expected = set(declaration.api_fields)
        if serializer_class in OWNER_FROM_THE_URL:
            expected.discard(OWNER)
        assert on_create == expected, serializer_class
        on_update = _writable(serializer_class(instance=declaration.model()))
        assert on_update <= expected - {OWNER}, serializer_class  # the owner is set once
        if isinstance(serializer_class(), serializers.ModelSerializer):
            assert on_update == set(declaration) - set(declaration.create_only), serializer_class
        assert set(declaration) <= {field.source for field in serializer_class().fields.values()}  # returned too


# --- the admin ----------------------------------------------------------------------------------------------


def _form_model_fields(response: Any, model: type[models.Model]) -> set[str]:
    """The admin form's fields that are fields of the model (helpers such as a schedule's frequency aside)."""
    names = {field.name for field in model._meta.get_fields()}
    return {name for name in response.context["adminform"].form.fields if name in names}


@pytest.mark.parametrize("declaration", ALL)
def test_the_admin_forms_have_exactly_the_declared_fields(
    client: Client, owner: User, household: Household, declaration: EditableFields
) -> None:
    model_admin = admin.site._registry.get(declaration.model)
    assert model_admin is not None, f"no admin for {declaration}"
    login(client, staff_member(owner, superuser=True))
    meta = declaration.model._meta
    add = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    assert add.status_code == 200
    form_fields = set(add.context["adminform"].form.fields)
    assert set(declaration.admin_fields) <= form_fields
    assert _form_model_fields(add, declaration.model) <= set(declaration.admin_fields)
    row = SERVICES[declaration.model][0](books_for(household), owner)
    change = client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[row.pk]))
    assert change.status_code == 200
    editable = _form_model_fields(change, declaration.model)
    if change.context["has_change_permission"]:
        assert editable == set(declaration.admin_fields) - {OWNER, *declaration.create_only}
    else:
        assert not editable


# --- the service --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("declaration", ALL)
def test_the_service_accepts_each_declared_field_and_refuses_any_other(
    owner: User, household: Household, declaration: EditableFields
) -> None:
    create, update = SERVICES[declaration.model]
    b = books_for(household)
    row = create(b, owner)
    with pytest.raises((ValidationError, TypeError), match="colour"):
        create(b, owner, colour="red")
    if update is None:
        return
    with pytest.raises((ValidationError, TypeError), match="colour"):
        update(row, colour="red")
    for name in declaration.columns:
        if name not in declaration.create_only:
            update(row, **{name: getattr(row, name)})  # each declared field is accepted (unchanged here)
    parameters = inspect.signature(update).parameters
    for name in declaration.lines:
        assert name in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def test_an_unknown_field_is_refused_with_the_declarations_words() -> None:
    with pytest.raises(ValidationError, match=r"Unknown scheduled transaction fields: colour, size\."):
        schedules.SCHEDULED_EDITABLE_FIELDS.reject_unknown({"colour": 1, "size": 2, "amount": 3})


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


# --- derivation: the serializers, admin forms and exports read the declaration -------------------------------


def _contains_in_order(names: list[str] | tuple[str, ...], declared: tuple[str, ...]) -> bool:
    return [name for name in names if name in declared] == list(declared)


def test_the_serializers_and_admin_forms_are_built_from_the_declarations() -> None:
    assert _contains_in_order(AccountSerializer.Meta.fields, service.ACCOUNT_EDITABLE_FIELDS.api_fields)
    assert admin.site._registry[Account].fields == service.ACCOUNT_EDITABLE_FIELDS.admin_fields
    assert _contains_in_order(TransactionSerializer.Meta.fields, tx_services.TRANSACTION_EDITABLE_FIELDS.api_fields)
    assert admin.site._registry[Transaction].form._meta.fields == tx_services.TRANSACTION_EDITABLE_FIELDS.admin_fields


def _header(rows: Iterator[str]) -> list[str]:
    return next(csv.reader([next(rows)]))


# The columns spreadsheets already read by position, in that order (split lines are rows of their own).
EXPORT_COLUMNS = ["id", "date", "account", "currency", "amount", "payee", "description", "category", "status"]
EXPORT_COLUMNS += ["tags", "transfer"]


def test_the_transaction_export_has_a_column_for_every_declared_field() -> None:
    header = _header(exports.transactions_csv_rows([]))
    # The columns spreadsheets already read by position, in that order (split lines are rows of their own).
    assert header == EXPORT_COLUMNS
    assert set(tx_services.TRANSACTION_EDITABLE_FIELDS) - {"splits"} <= set(header)


def test_a_newly_declared_transaction_field_reaches_the_export(
    monkeypatch: pytest.MonkeyPatch, household: Household
) -> None:
    monkeypatch.setattr(editable_fields, "DECLARATIONS", [])  # a throwaway declaration, not the app's
    declared = tx_services.TRANSACTION_EDITABLE_FIELDS
    widened = EditableFields(Transaction, (*declared, "created_at"), lines=declared.lines, owner=None)
    monkeypatch.setattr(exports, "TRANSACTION_EDITABLE_FIELDS", widened)
    tx = TransactionFactory(account=books_for(household).checking, payee="Shop")
    rows = list(csv.DictReader(exports.transactions_csv_rows(Transaction.objects.filter(pk=tx.pk))))
    assert list(rows[0])[-2:] == ["created_at", "transfer"]
    assert rows[0]["created_at"] == tx.created_at.isoformat()


def test_every_declared_account_and_household_field_reaches_the_household_export(household: Household) -> None:
    books_for(household)
    out = io.StringIO()
    household_export(household=household, output=out)
    data = json.loads(out.getvalue())
    assert set(data["household"]) == set(households.HOUSEHOLD_EDITABLE_FIELDS)
    for row in data["tables"]["ledger.Account"]:
        assert set(service.ACCOUNT_EDITABLE_FIELDS) <= set(row)


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
