"""Admin "History" pages that show our audit entries (who, when, which request, before → after)
instead of Django's LogEntry rows, which miss every change made through the API or services.

Use: `class TransactionAdmin(AuditHistoryAdminMixin, HouseholdScopedAdmin): ...`
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from financetracker.core.money import display_amount
from ledger.audit import household_of, object_type_of
from ledger.models import AuditEntry


class AuditHistoryAdminMixin:
    """Overrides ModelAdmin.history_view; the object is fetched through the admin's own scoped queryset."""

    audit_history_template = "admin/ledger/audit_history.html"
    audit_history_limit = 500

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        admin: Any = self
        model = admin.model
        obj = admin.get_object(request, unquote(object_id))
        if obj is None:
            # The admin's own "does not exist" redirect: another household's object is as missing as a deleted one.
            return admin._get_obj_does_not_exist_redirect(request, model._meta, object_id)
        if not admin.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        # Filed under the object's own household, as the API's history reads them: ids are never reused today,
        # but the page must not rest on that (and the household leads the entries' index).
        household_id = household_of(obj)
        filed_under = Q(household_id=household_id) if household_id is not None else Q(household__isnull=True)
        entries = (
            AuditEntry.objects.filter(filed_under, object_type=object_type_of(model), object_id=obj.pk)
            .select_related("actor")
            .order_by("-at", "-id")[: self.audit_history_limit]
        )
        context = {
            **admin.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": model._meta,
            "app_label": model._meta.app_label,
            "entries": [_entry_rows(entry, _currency_of(obj)) for entry in entries],
            **(extra_context or {}),
        }
        request.current_app = admin.admin_site.name
        return TemplateResponse(request, self.audit_history_template, context)


# Audited fields that hold money: shown as money (the currency's places, grouped, the code), as everywhere.
MONEY_FIELDS = frozenset({"amount", "opening_balance", "balance", "to_amount", "statement_balance"})


def _currency_of(obj: Any) -> str | None:
    """The currency an object's amounts are in: its own, or its account's (transactions, splits, budgets...)."""
    for path in ("currency", "account.currency", "transaction.account.currency", "household.base_currency"):
        value: Any = obj
        for part in path.split("."):
            value = getattr(value, part, None)
        if isinstance(value, str) and value:
            return value
    return None


def _shown(field: str, value: Any, currency: str | None) -> Any:
    if currency and field in MONEY_FIELDS and value not in (None, ""):
        try:
            return display_amount(value, currency)
        except (ArithmeticError, TypeError, ValueError):
            return value  # not a number after all: shown as recorded
    return value


def _entry_rows(entry: AuditEntry, currency: str | None = None) -> dict[str, Any]:
    """An entry with its changes as (field, before, after) rows for the template, amounts shown as money."""
    changes = entry.changes or {}
    if entry.action == "update":
        pairs = [(field, values[0], values[1]) for field, values in changes.items() if isinstance(values, list)]
    elif entry.action == "delete":
        pairs = [(field, value, None) for field, value in changes.items()]
    else:
        pairs = [(field, None, value) for field, value in changes.items()]
    rows = [(field, _shown(field, before, currency), _shown(field, after, currency)) for field, before, after in pairs]
    return {"entry": entry, "rows": rows}
