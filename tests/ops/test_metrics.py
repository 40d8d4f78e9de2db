"""/metrics: django-prometheus request, latency, database and cache metrics, our business counters,
and who may read the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient

from ledger.models import User
from tests.factories import AccountFactory
from tests.ops.conftest import PASSWORD, scrape

pytestmark = pytest.mark.django_db

RESPONSES = "django_http_responses_total_by_status_view_method_total"


def test_it_counts_responses_by_view_and_status(metric: Callable[..., float], owner: User, client_for: Any) -> None:
    ok_before = metric(RESPONSES, view="healthz", status="200", method="GET")
    listed_before = metric(RESPONSES, view="transaction-list", status="200", method="GET")
    missing_before = metric(RESPONSES, view="transaction-detail", status="404", method="GET")

    Client().get("/healthz")
    Client().get("/healthz")
    api = client_for(owner)
    api.get("/api/v1/transactions/")
    api.get("/api/v1/transactions/999999999/")

    assert metric(RESPONSES, view="healthz", status="200", method="GET") == ok_before + 2
    assert metric(RESPONSES, view="transaction-list", status="200", method="GET") == listed_before + 1
    assert metric(RESPONSES, view="transaction-detail", status="404", method="GET") == missing_before + 1


def test_the_page_has_latency_database_and_cache_metrics(owner: User, client_for: Any) -> None:
    client_for(owner).get("/api/v1/accounts/")
    APIClient().post("/api/v1/auth/token/", {"username": owner.username, "password": PASSWORD}, format="json")
    Client().get("/readyz")
    page = scrape()
    names = {sample.name for family in text_string_to_metric_families(page) for sample in family.samples}
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in names
    assert "django_db_execute_total" in names
    assert "django_db_new_connections_total" in names or "django_db_execute_many_total" in names
    # The readiness probe reads the cache (django-prometheus's Redis backend counts gets).
    assert "django_cache_get_total" in names
    assert "financetracker_transactions_created_total" in page  # declared, so HELP/TYPE is always there


def test_an_api_create_counts_a_transaction_with_source_api(
    metric: Callable[..., float],
    owner: User,
    household: Any,
    client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    account = AccountFactory(household=household)
    before = metric("financetracker_transactions_created_total", source="api")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(
            "/api/v1/transactions/", {"account": account.pk, "date": "2024-03-01", "amount": "-4.20"}, format="json"
        )
    assert response.status_code == 201, response.json()
    assert metric("financetracker_transactions_created_total", source="api") == before + 1


def test_a_service_call_outside_a_request_counts_as_manual(
    metric: Callable[..., float], household: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from ledger.services.transactions import transaction_create

    account = AccountFactory(household=household)
    before = metric("financetracker_transactions_created_total", source="manual")
    imported_before = metric("financetracker_transactions_created_total", source="import")
    with django_capture_on_commit_callbacks(execute=True):
        transaction_create(account=account, date=account.opening_date, amount="1.00")
        transaction_create(account=account, date=account.opening_date, amount="2.00", source="import")
    assert metric("financetracker_transactions_created_total", source="manual") == before + 1
    assert metric("financetracker_transactions_created_total", source="import") == imported_before + 1


def test_a_bad_admin_login_counts_a_login_failure(metric: Callable[..., float], staff_owner: User) -> None:
    before = metric("financetracker_login_failures_total", channel="admin")
    response = Client().post("/admin/login/", {"username": staff_owner.username, "password": "wrong"})
    assert response.status_code == 200  # the form again, with an error
    assert metric("financetracker_login_failures_total", channel="admin") == before + 1


def test_a_bad_token_request_counts_a_login_failure(metric: Callable[..., float], owner: User) -> None:
    before = metric("financetracker_login_failures_total", channel="api")
    response = APIClient().post("/api/v1/auth/token/", {"username": owner.username, "password": "wrong"}, format="json")
    assert response.status_code == 401
    assert metric("financetracker_login_failures_total", channel="api") == before + 1


# --- Who may read /metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "172.20.0.5", "192.168.1.9", "::1"])
def test_without_a_token_private_addresses_may_scrape(settings: Any, address: str) -> None:
    settings.METRICS_TOKEN = ""
    assert Client(REMOTE_ADDR=address).get("/metrics").status_code == 200


@pytest.mark.parametrize("address", ["203.0.113.7", "8.8.8.8", "172.32.0.1", "2001:db8::1", "garbage"])
def test_without_a_token_public_addresses_get_403(settings: Any, address: str) -> None:
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR=address).get("/metrics")
    assert response.status_code == 403
    assert b"django_http" not in response.content


def test_without_a_token_a_proxied_request_gets_403_even_from_the_proxys_private_address(settings: Any) -> None:
    # Through the ingress, REMOTE_ADDR is the ingress controller's pod IP (private): the forwarding
    # header is what shows the request came from outside.
    settings.METRICS_TOKEN = ""
    response = Client(REMOTE_ADDR="10.0.0.12").get("/metrics", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert response.status_code == 403


def test_with_a_token_only_the_right_bearer_token_may_scrape(settings: Any) -> None:
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    public = Client(REMOTE_ADDR="203.0.113.7")
    assert public.get("/metrics").status_code == 403
    assert public.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert public.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-metrics-token").status_code == 403
    # A token is required from private addresses too: the setting means "token only".
    assert Client().get("/metrics").status_code == 403
    response = public.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_total_by_method_total" in response.content.decode()


def test_the_page_parses_as_prometheus_text(owner: User, client_for: Any) -> None:
    client_for(owner).get("/api/v1/transactions/")
    families = list(text_string_to_metric_families(scrape()))
    assert len(families) > 20
