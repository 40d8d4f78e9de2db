"""Request bodies an attacker controls: deep, large, NUL-laden or unknown input is a JSON 400, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from financetracker.core.api.parsers import MAX_JSON_DEPTH, json_depth

pytestmark = pytest.mark.django_db


def post_json(api, path: str, body: str):
    return api.generic("POST", path, body, content_type="application/json")


def assert_json_400(response) -> dict:
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def test_json_nested_ten_thousand_deep_is_a_400_with_a_message(api):
    body = assert_json_400(post_json(api, "/api/v1/tags/", "[" * 10_000 + "]" * 10_000))
    assert f"deeper than {MAX_JSON_DEPTH}" in body["detail"]


def test_json_one_level_past_the_bound_is_refused_and_at_the_bound_parses(api):
    too_deep = '{"name": ' + "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH + "}"
    assert "deeper than" in assert_json_400(post_json(api, "/api/v1/tags/", too_deep))["detail"]
    at_bound = '{"name": ' + "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1) + "}"
    # Parsed, then refused by the field: a list is not a name.
    assert "name" in assert_json_400(post_json(api, "/api/v1/tags/", at_bound))


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert json_depth(json.dumps({"payee": "[[[[{{{{" * 100, "escaped": '\\"[[[['})) == 1


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_outside_the_standard_are_refused(api, constant):
    assert "detail" in assert_json_400(post_json(api, "/api/v1/tags/", '{"name": ' + constant + "}"))


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_an_oversized_json_body_is_a_json_400_with_a_message(api):
    body = assert_json_400(post_json(api, "/api/v1/tags/", json.dumps({"name": "x" * 2048})))
    assert "larger than 1024 bytes" in body["detail"]


@override_settings(DATA_UPLOAD_MAX_NUMBER_FIELDS=10)
def test_a_form_with_too_many_fields_is_a_json_400_with_a_message(api):
    form = "&".join(f"f{index}=1" for index in range(50))
    response = api.generic("POST", "/api/v1/tags/", form, content_type="application/x-www-form-urlencoded")
    assert "more than 10 fields" in assert_json_400(response)["detail"]


def test_nul_in_a_rule_condition_is_a_field_message(api, household):
    rule = {
        "household": household.pk,
        "name": "Nul",
        "set_payee": "x",
        "conditions": [{"field": "payee", "operator": "contains", "value": "cof\x00fee"}],
    }
    body = assert_json_400(api.post("/api/v1/rules/", rule, format="json"))
    assert "NUL" in body["conditions"][0] and "conditions[0].value" in body["conditions"][0]


def test_nul_in_a_json_key_is_refused(api, household):
    rule = {
        "household": household.pk,
        "name": "Nul key",
        "set_payee": "x",
        "conditions": [{"field": "payee", "operator": "contains", "value": "coffee", "no\x00te": 1}],
    }
    assert "NUL" in assert_json_400(api.post("/api/v1/rules/", rule, format="json"))["conditions"][0]


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/v1/tags/", "name"), ("/api/v1/categories/", "name"), ("/api/v1/households/", "name")],
)
def test_nul_in_a_name_is_a_field_message(api, path, field):
    assert "NUL" in assert_json_400(api.post(path, {field: "a\x00b"}, format="json"))[field][0]


def test_nul_in_a_payee_is_a_field_message(api, account):
    payload = {"account": account.pk, "date": "2024-03-01", "amount": "-1.00", "payee": "Shop\x00"}
    assert "NUL" in assert_json_400(api.post("/api/v1/transactions/", payload, format="json"))["payee"][0]


def test_nul_in_an_imports_mapping_sent_as_a_form_string_is_a_field_message(api, account, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("s.csv", b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n", content_type="text/csv")
    mapping = json.dumps({"date": "Date\x00", "payee": "Payee", "amount": "Amount"})
    response = api.post("/api/v1/imports/", {"file": upload, "account": account.pk, "mapping": mapping})
    assert "NUL" in assert_json_400(response)["mapping"][0]


def test_an_unknown_api_url_answers_json(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_authenticated_api_responses_are_not_stored_by_caches(api, account):
    for path in ("/api/v1/accounts/", f"/api/v1/accounts/{account.pk}/", "/api/v1/no-such-thing/"):
        assert api.get(path)["Cache-Control"] == "no-store", path
