"""A request field that cannot be honoured is a 400 with a message: never silently dropped."""

from __future__ import annotations

import importlib
import inspect

import pytest
from rest_framework import serializers

from financetracker.core.api.strict import RefuseUnknownFieldsMixin
from ledger.models import Transaction
from tests.factories import CategoryFactory, TagFactory
from tests.ledger.api.support import post_transaction, transaction

pytestmark = pytest.mark.django_db


def test_a_transaction_with_both_category_and_splits_is_a_400(api, account, household):
    food, rent = CategoryFactory(household=household), CategoryFactory(household=household)
    response = post_transaction(
        api,
        account.pk,
        date="2024-03-01",
        amount="-5.00",
        category=food.pk,
        splits=[{"category": rent.pk, "amount": "-5.00"}],
    )
    assert response.status_code == 400
    assert "send category or splits" in response.json()["category"][0]
    assert not Transaction.objects.filter(account=account).exists()


def test_categorising_a_split_transaction_without_unsplitting_it_is_a_400(api, account, household):
    food, rent = CategoryFactory(household=household), CategoryFactory(household=household)
    created = transaction(
        api, account.pk, date="2024-03-01", amount="-5.00", splits=[{"category": rent.pk, "amount": "-5.00"}]
    )
    refused = api.patch(f"/api/v1/transactions/{created['id']}/", {"category": food.pk}, format="json")
    assert refused.status_code == 400 and "is split" in refused.json()["category"][0]
    unsplit = api.patch(f"/api/v1/transactions/{created['id']}/", {"category": food.pk, "splits": []}, format="json")
    assert unsplit.status_code == 200, unsplit.json()
    assert unsplit.json()["category"] == food.pk and unsplit.json()["splits"] == []


@pytest.mark.parametrize(
    ("path", "payload", "unknown"),
    [
        ("/api/v1/tags/", {"name": "groceries", "colour": "red"}, "colour"),
        ("/api/v1/categories/", {"name": "Food", "kind": "expense", "budget": "10"}, "budget"),
        ("/api/v1/households/", {"name": "Home", "base_currency": "EUR", "currency": "EUR"}, "currency"),
        ("/api/v1/rules/", {"name": "R", "set_payee": "x", "conditions": [], "priority": 1}, "priority"),
        ("/api/v1/auth/token/", {"username": "olivia", "password": "x", "scope": "all"}, "scope"),
    ],
)
def test_an_unknown_field_in_a_json_body_is_refused_with_a_message(api, path, payload, unknown):
    response = api.post(path, payload, format="json")
    assert response.status_code == 400, response.content[:300]
    assert "Unknown field" in response.json()[unknown][0]


def test_an_unknown_field_in_a_transaction_or_its_splits_is_refused(api, account, household):
    category = CategoryFactory(household=household)
    misspelt = {"account": account.pk, "date": "2024-03-01", "amount": "-5.00", "catgory": category.pk}
    assert "catgory" in api.post("/api/v1/transactions/", misspelt, format="json").json()
    in_split = {
        "account": account.pk,
        "date": "2024-03-01",
        "amount": "-5.00",
        "splits": [{"category": category.pk, "amount": "-5.00", "note": "x"}],
    }
    response = api.post("/api/v1/transactions/", in_split, format="json")
    assert response.status_code == 400 and "note" in response.json()["splits"]["0"]


def test_a_read_only_field_sent_on_update_is_refused_not_ignored(api, household, outsider_household):
    tag = TagFactory(household=household)
    response = api.patch(f"/api/v1/tags/{tag.pk}/", {"household": outsider_household.pk}, format="json")
    assert response.status_code == 400
    assert "read-only" in response.json()["household"][0]


def test_query_parameters_are_not_body_fields(api, account):
    # Pagination, ordering and filters share the query string with the query serializers: all still work.
    response = api.get(f"/api/v1/accounts/{account.pk}/balance/?as_of=2024-03-01&format=json&page_size=5")
    assert response.status_code == 200


def _api_serializer_classes() -> list[type]:
    found = []
    for module_name in (
        "ledger.api.serializers",
        "ledger.api.rules",
        "ledger.api.invitations",
        "budgets.api.serializers",
        "uploads.api.serializers",
    ):
        module = importlib.import_module(module_name)
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, serializers.BaseSerializer) and value.__module__ == module_name:
                found.append(value)
    return found


def test_every_api_serializer_refuses_unknown_fields():
    classes = _api_serializer_classes()
    assert len(classes) > 15
    lax = [cls.__qualname__ for cls in classes if not issubclass(cls, RefuseUnknownFieldsMixin)]
    assert lax == []


def test_a_transactions_history_is_the_plain_list_the_schema_promises(api, account):
    created = api.post(
        "/api/v1/transactions/", {"account": account.pk, "date": "2024-03-01", "amount": "-1.00"}, format="json"
    ).json()
    history = api.get(f"/api/v1/transactions/{created['id']}/history/").json()
    assert isinstance(history, list) and history[0]["action"] == "create"
    schema = api.get("/api/v1/schema/?format=json").json()
    response_schema = schema["paths"]["/api/v1/transactions/{id}/history/"]["get"]["responses"]["200"]
    assert response_schema["content"]["application/json"]["schema"]["type"] == "array"
