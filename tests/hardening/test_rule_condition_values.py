"""A rule condition's value is taken as sent or refused with the condition's message, never reshaped: a list
given to gte/lte kept its first amount and dropped the rest (an empty list was a 500), and an account id sent
as 12.7 or true was read as account 12 or 1."""

from __future__ import annotations

import pytest

from ledger.models import Rule

pytestmark = pytest.mark.django_db


def post_rule(api, household, condition: dict):
    body = {"household": household.pk, "name": "Probe", "conditions": [condition], "set_payee": "hit"}
    return api.post("/api/v1/rules/", body, format="json")


@pytest.mark.parametrize("operator", ["gte", "lte"])
@pytest.mark.parametrize("value", [[], ["5"], ["5", "100"], [["5"]]], ids=repr)
def test_a_single_amount_operator_given_a_list_is_refused(api, household, operator, value):
    response = post_rule(api, household, {"field": "amount", "operator": operator, "value": value})
    assert response.status_code == 400, response.content[:300]
    assert "takes one amount" in response.json()["conditions"][0]
    assert not Rule.objects.filter(household=household).exists()


@pytest.mark.parametrize("offset", [0.7, 0.0], ids=["12.7", "12.0"])
def test_an_account_condition_given_a_fraction_or_a_boolean_is_refused(api, household, account, offset):
    for value in (account.pk + offset, True):
        response = post_rule(api, household, {"field": "account", "operator": "is", "value": value})
        assert response.status_code == 400, (value, response.content[:300])
        assert "give an account id" in response.json()["conditions"][0]


def test_the_values_rules_take_still_save(api, household, account):
    for condition in (
        {"field": "amount", "operator": "gte", "value": "-12.50"},
        {"field": "amount", "operator": "between", "value": ["-20", "-10"]},
        {"field": "account", "operator": "is", "value": account.pk},
        {"field": "account", "operator": "is", "value": str(account.pk)},
    ):
        response = post_rule(api, household, condition)
        assert response.status_code == 201, (condition, response.content[:300])
        Rule.objects.filter(pk=response.json()["id"]).delete()
