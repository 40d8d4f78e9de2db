"""The admin theme (django-unfold): our two copies of its templates stay copies, and the CSP stays strict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import unfold
from django.test import Client
from django.urls import reverse

from ledger.models import User
from tests.factories import staff_client, staff_member

OURS = Path(__file__).resolve().parents[2] / "financetracker" / "templates"
UNFOLD = Path(unfold.__file__).resolve().parent / "templates"

# Each copy: (path, the changes we made as (unfold's text, ours)).
COPIES = {
    "unfold/layouts/skeleton.html": [
        ('<style id="unfold-theme-colors">', '<style id="unfold-theme-colors" nonce="{{ request.csp_nonce }}">'),
    ],
    "admin/actions.html": [
        (
            """x-bind:style="'width: ' + changeListWidth + 'px'\"""",
            """x-bind:style="{width: changeListWidth + 'px'}\"""",
        ),
    ],
}


def _without_our_header(text: str) -> str:
    return re.sub(r"\A\{% comment %\}.*?\{% endcomment %\}\n", "", text, flags=re.S)


@pytest.mark.parametrize("path", sorted(COPIES))
def test_our_template_copies_differ_from_unfolds_only_by_the_csp_changes(path: str) -> None:
    ours = _without_our_header((OURS / path).read_text())
    ours = re.sub(r"        <meta name=\"htmx-config\"[^\n]*\n", "", ours)
    for original, changed in COPIES[path]:
        assert changed in ours
        ours = ours.replace(changed, original)
    # Fails after an unfold upgrade changed the original: copy it again and re-apply the changes above.
    assert ours == (UNFOLD / path).read_text()


@pytest.mark.django_db
def test_admin_pages_allow_eval_for_alpine_but_never_inline_scripts(owner: User) -> None:
    client = staff_client(owner, superuser=True)
    admin_policy = client.get("/admin/")["Content-Security-Policy"]
    script_src = next(part for part in admin_policy.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-eval'" in script_src
    assert "'unsafe-inline'" not in admin_policy
    assert "'nonce-" in script_src
    # The nonce the header names is the one the theme's inline style carries.
    page = client.get("/admin/ledger/account/")
    found = re.search(r"'nonce-([^']+)'", page["Content-Security-Policy"])
    assert found is not None
    nonce = found.group(1)
    assert f'<style id="unfold-theme-colors" nonce="{nonce}">' in page.content.decode()
    # Outside the admin nothing is relaxed.
    api_policy = client.get("/api/v1/")["Content-Security-Policy"]
    assert "'unsafe-eval'" not in api_policy


@pytest.mark.django_db
def test_signing_in_without_next_lands_on_the_dashboard(owner: User) -> None:
    staff_member(owner)
    client = Client()
    response = client.post("/admin/login/", {"username": owner.username, "password": "correct horse battery staple"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/budgets/budget/dashboard/"


@pytest.mark.django_db
def test_every_sidebar_entry_opens_for_a_household_owner(personas: dict[str, User]) -> None:
    """Generated from the navigation itself: each entry the sidebar offers an owner is a page that opens."""
    from django.test import RequestFactory

    from financetracker.admin_navigation import GROUPS, navigation

    owner = personas["owner"]
    client = Client()
    client.force_login(owner)
    request = RequestFactory().get("/admin/")
    request.user = owner
    links = [item["link"] for group in navigation(request) for item in group["items"]]
    assert len(links) >= len(GROUPS) + 8
    for link in links:
        assert client.get(link).status_code == 200, link


@pytest.mark.django_db
def test_the_sidebar_marks_exactly_the_entry_of_the_page(personas: dict[str, User]) -> None:
    """Generated from the navigation: on each entry's own page that entry alone is active, and so it is on
    the pages below it (a change form) and, for the reports, on every report's page."""
    from django.test import RequestFactory

    from budgets.admin_reports import REPORTS
    from financetracker.admin_navigation import navigation

    owner = personas["owner"]

    def active_on(path: str) -> list[str]:
        request = RequestFactory().get(path)
        request.user = owner
        return [item["title"] for group in navigation(request) for item in group["items"] if item["active"]]

    request = RequestFactory().get("/admin/")
    request.user = owner
    entries = [(item["title"], item["link"]) for group in navigation(request) for item in group["items"]]
    for title, link in entries:
        assert active_on(link) == [title], link
    assert active_on("/admin/") == []
    assert active_on(reverse("admin:budgets_budget_change", args=[1])) == ["Budgets"]
    for key in REPORTS:
        assert active_on(reverse(f"admin:budgets_report_{key}")) == ["Reports"], key


@pytest.mark.django_db
def test_a_report_page_is_headed_reports_not_the_budget_admin(personas: dict[str, User]) -> None:
    client = Client()
    client.force_login(personas["owner"])
    page = client.get(reverse("admin:budgets_report_net_worth")).content.decode()
    assert "Budgets and planning" not in page  # unfold's header of the budget admin (app, then model)
