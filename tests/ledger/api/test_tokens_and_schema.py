"""API tokens (password login, throttling, the create_api_token command) and the OpenAPI schema and docs."""

from __future__ import annotations

import json
import re
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from ledger.models import ApiToken, User
from ledger.services.tokens import api_token_revoke
from tests.factories import UserFactory
from tests.ledger.api.support import PASSWORD

pytestmark = pytest.mark.django_db


# --- Authentication ------------------------------------------------------------------------------


def test_a_password_buys_a_token_that_works(api_client: APIClient, owner: User) -> None:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD, "name": "laptop"}
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert set(response.json()) == {"token"}
    assert ApiToken.objects.get(user=owner, name="laptop").key_hash != token
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/accounts/").status_code == 200


def test_a_wrong_password_is_a_401(api_client: APIClient, owner: User) -> None:
    response = api_client.post("/api/v1/auth/token/", {"username": owner.username, "password": "wrong"})
    assert response.status_code == 401
    assert "token" not in response.json()
    assert api_client.post("/api/v1/auth/token/", {"username": "nobody", "password": "wrong"}).status_code == 401


def test_token_requests_are_throttled(api_client: APIClient, owner: User) -> None:
    # Distinct usernames: the per-address rate, not the per-account lockout (tests/ops/test_login_protection.py).
    statuses = [
        api_client.post("/api/v1/auth/token/", {"username": f"guess{n}", "password": "wrong"}).status_code
        for n in range(10)
    ]
    assert statuses == [401] * 10
    assert api_client.post("/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD}).status_code == 429


def test_requests_without_a_valid_token_are_a_401(api_client: APIClient, owner: User) -> None:
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer ft_not-a-real-token")
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer")
    assert api_client.get("/api/v1/accounts/").status_code == 401
    api_client.credentials(HTTP_AUTHORIZATION="Bearer a b")
    assert api_client.get("/api/v1/accounts/").status_code == 401


def test_create_api_token_prints_a_secret_that_works_until_revoked(api_client: APIClient, owner: User) -> None:
    out, err = StringIO(), StringIO()
    call_command("create_api_token", owner.username, "--name", "cron", stdout=out, stderr=err)
    secret = out.getvalue().strip()
    assert secret.startswith("ft_")
    assert secret not in err.getvalue()
    token = ApiToken.objects.get(user=owner, name="cron")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api_client.get("/api/v1/households/").status_code == 200
    api_token_revoke(token=token)
    assert api_client.get("/api/v1/households/").status_code == 401


def test_create_api_token_fails_for_an_unknown_or_inactive_person(owner: User) -> None:
    with pytest.raises(CommandError, match="nobody"):
        call_command("create_api_token", "nobody")
    owner.is_active = False
    owner.save()
    with pytest.raises(CommandError):
        call_command("create_api_token", owner.username)
    with pytest.raises(CommandError):
        call_command("create_api_token", UserFactory().username, "--name", " ")
    assert not ApiToken.objects.exists()


def test_create_api_token_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        call_command("create_api_token", "--help")
    assert exit_info.value.code == 0
    assert "USERNAME" in capsys.readouterr().out.upper()


# --- Schema and docs -----------------------------------------------------------------------------


def test_the_openapi_schema_is_valid_yaml_and_json(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/transactions/" in schema["paths"]
    as_json = api_client.get("/api/v1/schema/?format=json")
    assert as_json.status_code == 200
    assert json.loads(as_json.content)["info"]["title"] == schema["info"]["title"]


def test_the_api_docs_load_nothing_from_a_cdn(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", html), html
