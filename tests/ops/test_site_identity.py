"""A person sees the product's name and icon, and the site root leads somewhere real."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client


def test_site_root_leads_to_the_dashboard(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/budgets/dashboard/" or response["Location"].endswith("/dashboard/")


def test_favicon_is_served(db: None) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/ledger/favicon.svg"
    # collectstatic (and whitenoise) serve what the finders find.
    found = finders.find("ledger/favicon.svg")
    assert found and "<svg" in Path(str(found)).read_text()


def test_login_page_names_the_product_not_the_framework(db: None) -> None:
    body = Client().get("/admin/login/").content.decode()
    assert "financetracker" in body
    assert "Django" not in body
