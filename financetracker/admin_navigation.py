"""The admin's sidebar, grouped by what people do rather than by Django app (UNFOLD["SIDEBAR"]).

Each entry names a registered model or a named admin URL; an entry is shown only to a person whose
admin for it would let them in, and a group with nothing left is not shown at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Entry:
    title: str
    icon: str  # a Material Symbols name, the icon font unfold ships
    model: str | None = None  # "app_label.ModelName": its changelist
    url_name: str | None = None  # an admin URL name, opened to whoever may view `model_for_permission`
    model_for_permission: str | None = None
    # The entry stands for every page beside its link (the reports: one entry, a page per report).
    covers_siblings: bool = False


GROUPS: tuple[tuple[str, tuple[Entry, ...]], ...] = (
    (
        "Overview",
        (
            Entry("Dashboard", "dashboard", url_name="admin:budgets_dashboard", model_for_permission="budgets.Budget"),
            Entry(
                "Reports",
                "monitoring",
                url_name="admin:budgets_report_cashflow",
                model_for_permission="budgets.Budget",
                covers_siblings=True,
            ),
        ),
    ),
    (
        "Money",
        (
            Entry("Accounts", "account_balance", model="ledger.Account"),
            Entry("Transactions", "receipt_long", model="ledger.Transaction"),
            Entry("Transfers", "swap_horiz", model="ledger.Transfer"),
            Entry("Reconciliations", "fact_check", model="ledger.Reconciliation"),
        ),
    ),
    (
        "Planning",
        (
            Entry(
                "Budget month",
                "calendar_month",
                url_name="admin:budgets_budget_month",
                model_for_permission="budgets.Budget",
            ),
            Entry("Budgets", "savings", model="budgets.Budget"),
            Entry("Scheduled transactions", "event_repeat", model="budgets.ScheduledTransaction"),
            Entry("Exchange rates", "currency_exchange", model="budgets.ExchangeRate"),
        ),
    ),
    (
        "Imports",
        (
            Entry("Statement imports", "upload_file", model="uploads.StatementImport"),
            Entry("CSV profiles", "table_view", model="uploads.CsvProfile"),
            Entry("Attachments", "attach_file", model="uploads.Attachment"),
        ),
    ),
    (
        "Settings",
        (
            Entry("Households", "home", model="ledger.Household"),
            Entry("Members", "group", model="ledger.Membership"),
            Entry("Invitations sent", "send", model="ledger.Invitation"),
            Entry("Invitations received", "mail", model="ledger.ReceivedInvitation"),
            Entry("Categories", "category", model="ledger.Category"),
            Entry("Tags", "sell", model="ledger.Tag"),
            Entry("Rules", "rule", model="ledger.Rule"),
            Entry("API tokens", "key", model="ledger.ApiToken"),
            Entry("People", "person", model="ledger.User"),
            Entry("Groups", "groups", model="auth.Group"),
            Entry("Change history", "history", model="ledger.AuditEntry"),
        ),
    ),
)


def _model_admin(label: str) -> Any:
    model = apps.get_model(label)
    return admin.site._registry.get(model)


def _may_open(request: HttpRequest, entry: Entry) -> bool:
    label = entry.model or entry.model_for_permission
    model_admin = _model_admin(label) if label else None
    if model_admin is None:
        return False
    return bool(model_admin.has_view_or_change_permission(request))


def _link(entry: Entry) -> str:
    if entry.url_name:
        return reverse(entry.url_name)
    model = apps.get_model(entry.model or "")
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _section(entry: Entry, link: str) -> str:
    """The paths the entry stands for: its link and below, or its link's folder for `covers_siblings`."""
    return link.rstrip("/").rsplit("/", 1)[0] + "/" if entry.covers_siblings else link


def navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """UNFOLD["SIDEBAR"]["navigation"]: called on every admin page with the request.

    One entry is marked active, the one whose section is the longest start of the path: unfold's own rule
    (the link anywhere in the path) also lit "Budgets" on the dashboard, the budget month and the reports,
    whose pages live below the budget admin's URL."""
    groups: list[dict[str, Any]] = []
    for title, entries in GROUPS:
        items: list[dict[str, Any]] = [
            {"title": entry.title, "icon": entry.icon, "link": link, "section": _section(entry, link)}
            for entry in entries
            if _may_open(request, entry)
            for link in [_link(entry)]
        ]
        if items:
            groups.append({"title": title, "separator": True, "collapsible": False, "items": items})
    sections = [item["section"] for group in groups for item in group["items"]]
    current = max((section for section in sections if request.path.startswith(section)), key=len, default=None)
    for group in groups:
        for item in group["items"]:
            item["active"] = item.pop("section") == current
    return groups
