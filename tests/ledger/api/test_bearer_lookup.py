"""The bearer look-up is one raw statement: it must give what the ORM gave — the token, its user, the person's
roles — refuse what it refused with the same 401 bodies, and survive a connection PostgreSQL dropped."""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.db import connection, connections
from django.forms.models import model_to_dict
from django.utils import timezone
from rest_framework.test import APIClient

from financetracker.core.tenancy import ROLES_MEMO, Role
from ledger.models import ApiToken, Household, Membership, User
from ledger.services.households import household_create, membership_set
from ledger.services.tokens import api_token_authenticate, api_token_create, api_token_revoke
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_token_and_its_user_are_the_rows_the_orm_reads(owner: User) -> None:
    owner.first_name, owner.email = "Olivia", "olivia@example.org"
    owner.save()
    created, secret = api_token_create(user=owner, name="laptop")
    api_token_authenticate(secret=secret)  # first use recorded: last_used_at is set in what is compared
    stored = ApiToken.objects.select_related("user").get(pk=created.pk)
    token = api_token_authenticate(secret=secret)
    assert token is not None and stored.last_used_at is not None
    assert model_to_dict(token) == model_to_dict(stored)
    assert token.created_at == stored.created_at and token.last_used_at == stored.last_used_at
    fields = [field.attname for field in User._meta.concrete_fields]
    assert {name: getattr(token.user, name) for name in fields} == {name: getattr(stored.user, name) for name in fields}
    assert token.user.is_authenticated and not token.user._state.adding
    assert token.user.check_password("password") == stored.user.check_password("password")
    token.user.first_name = "Liv"
    token.user.save(update_fields=["first_name"])  # a real model instance: it saves
    assert User.objects.get(pk=owner.pk).first_name == "Liv"


def test_the_roles_memo_holds_every_membership(owner: User, household: Household) -> None:
    other = household_create(owner=UserFactory(username="hank"), name="Other")
    membership_set(household=other, user=owner, role=Role.VIEWER)
    _token, secret = api_token_create(user=owner)
    token = api_token_authenticate(secret=secret)
    assert token is not None
    expected = dict(Membership.objects.filter(user=owner).values_list("household_id", "role"))
    assert getattr(token.user, ROLES_MEMO) == expected == {household.pk: Role.OWNER, other.pk: Role.VIEWER}


def test_a_person_without_households_gets_an_empty_memo() -> None:
    loner = UserFactory(username="loner")
    Membership.objects.filter(user=loner).delete()
    _token, secret = api_token_create(user=loner)
    token = api_token_authenticate(secret=secret)
    assert token is not None and getattr(token.user, ROLES_MEMO) == {}


def test_refusals_keep_their_401_bodies(owner: User, client_for: Callable[[User], APIClient]) -> None:
    token, secret = api_token_create(user=owner)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/accounts/").status_code == 200
    api_token_revoke(token=token)
    revoked = client.get("/api/v1/accounts/")
    assert (revoked.status_code, revoked.json()["detail"]) == (401, "Invalid or revoked token.")
    assert revoked["WWW-Authenticate"] == "Bearer"
    _token, secret = api_token_create(user=owner)
    owner.is_active = False
    owner.save(update_fields=["is_active"])
    inactive = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/accounts/")
    assert (inactive.status_code, inactive.json()["detail"]) == (401, "Invalid or revoked token.")
    wrong = APIClient(HTTP_AUTHORIZATION="Bearer ft_not-a-real-token").get("/api/v1/accounts/")
    assert (wrong.status_code, wrong.json()["detail"]) == (401, "Invalid or revoked token.")
    shape = APIClient(HTTP_AUTHORIZATION="Bearer a b").get("/api/v1/accounts/")
    assert shape.json()["detail"] == "Invalid Authorization header: expected 'Bearer <token>'."
    undecodable = APIClient(HTTP_AUTHORIZATION=b"Bearer \xff\xfe").get("/api/v1/accounts/")
    assert (undecodable.status_code, undecodable.json()["detail"]) == (401, "Invalid token.")


def test_last_use_is_written_at_most_once_a_minute(owner: User, django_assert_num_queries: Any) -> None:
    created, secret = api_token_create(user=owner)
    with django_assert_num_queries(2):
        api_token_authenticate(secret=secret)  # first use: the look-up, then the write
    first_use = ApiToken.objects.get(pk=created.pk).last_used_at
    assert first_use is not None
    with django_assert_num_queries(1):
        api_token_authenticate(secret=secret)  # within the minute: the look-up alone
    ApiToken.objects.filter(pk=created.pk).update(last_used_at=timezone.now() - datetime.timedelta(seconds=61))
    with django_assert_num_queries(2):
        api_token_authenticate(secret=secret)
    last_use = ApiToken.objects.get(pk=created.pk).last_used_at
    assert last_use is not None and last_use > first_use


@pytest.mark.django_db(transaction=True)
def test_a_connection_postgresql_dropped_is_replaced_without_an_error(owner: User) -> None:
    # Health checks are off: the look-up, every API request's first statement, reconnects once itself.
    _token, secret = api_token_create(user=owner)
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/accounts/").status_code == 200
    settings = connection.settings_dict
    backend_pid = connection.connection.info.backend_pid
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"], autocommit=True
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [backend_pid])
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 200
    assert connection.connection.info.backend_pid != backend_pid


@pytest.mark.django_db(transaction=True)
def test_a_refused_connection_is_not_asked_twice(owner: User, monkeypatch: pytest.MonkeyPatch) -> None:
    # The database is down (nothing listens): one connect attempt, then the 503 — not two waits for one answer.
    _token, secret = api_token_create(user=owner)
    wrapper = connections["default"]
    attempts: list[object] = []
    real_connect = wrapper.get_new_connection

    def counted_connect(params: dict[str, Any]) -> Any:
        attempts.append(params)
        return real_connect(params)

    connection.close()
    monkeypatch.setitem(wrapper.settings_dict, "PORT", str(unused_port()))
    monkeypatch.setattr(wrapper, "get_new_connection", counted_connect)
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}").get("/api/v1/accounts/")
    assert (response.status_code, response.json()["code"]) == (503, "database_unavailable")
    assert len(attempts) == 1
    monkeypatch.undo()
    connection.close()


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
