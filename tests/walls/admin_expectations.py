"""The admin's expectation table, keyed by URL name (`ledger_account_change`, `uploads_import_wizard_map`,
`ledger_transaction_changelist:mark_cleared` for an action). Access rules as in expectations.py, plus:
- SELF: only the person the row belongs to (an API token): anyone else gets the answer of a missing row;
- NOBODY: no persona, whatever its role (superuser-only pages, append-only history): 403 (or 404).
- HIDDEN: a row no persona can see, its own household's included (invitations addressed to someone else): the
  admin's answer for a missing row (a redirect to the index), or 403/404.

Add a registered model with `admin_model(...)` (its five standard pages), each action with `admin_action(...)`,
and a custom page (a `get_urls()` extra) with `AdminPage(...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tests.walls.expectations import OWNER, PUBLIC, READ, SIGNED_IN, WRITE

SELF = "self"
NOBODY = "nobody"
HIDDEN = "hidden"


@dataclass(frozen=True)
class AdminPage:
    get: str | None = None  # access rule of a GET, None: not called
    post: str | None = None  # access rule of a POST with `data`
    obj: str | None = None  # the seeded row whose id is the page's object id (global rows: "rate", "group")
    kwargs: Mapping[str, str] = field(default_factory=dict)  # URL kwargs → seeded row, or "=value" for a constant
    query: Mapping[str, str] = field(default_factory=dict)  # query → seeded row, or "=value"
    data: Mapping[str, str] = field(default_factory=dict)  # POST fields → seeded row, or "=value"
    ok: tuple[int, ...] = (200,)  # what a permitted GET answers


def admin_model(
    label: str,
    obj: str,
    *,
    changelist: str = READ,
    add: str = WRITE,
    change: str = READ,
    delete: str = WRITE,
    history: str = READ,
) -> dict[str, AdminPage]:
    """The five pages Django serves for a registered model (`label` is "<app>_<model>")."""
    return {
        f"{label}_changelist": AdminPage(get=changelist),
        f"{label}_add": AdminPage(get=add),
        f"{label}_change": AdminPage(get=change, obj=obj),
        f"{label}_delete": AdminPage(get=delete, post=delete, obj=obj, data={"post": "=yes"}),
        f"{label}_history": AdminPage(get=history, obj=obj),
    }


def admin_action(label: str, action: str, access: str, obj: str, **data: str) -> dict[str, AdminPage]:
    fields = {"action": f"={action}", "_selected_action": obj, "index": "=0", "post": "=yes", **data}
    return {f"{label}_changelist:{action}": AdminPage(post=access, data=fields)}


ADMIN: dict[str, AdminPage] = {
    # The site's own pages.
    "index": AdminPage(get=READ),
    "app_list": AdminPage(get=READ, kwargs={"app_label": "=ledger"}),
    "login": AdminPage(get=PUBLIC),
    "logout": AdminPage(),  # POST ends the session: tested on its own (test_admin_matrix)
    "password_change": AdminPage(get=SIGNED_IN),
    "password_change_done": AdminPage(get=SIGNED_IN),
    "jsi18n": AdminPage(get=SIGNED_IN),
    # django-unfold's sidebar search: it matches the names of the pages the person may open, never rows
    # (UNFOLD["COMMAND"]["search_models"] stays off).
    "search": AdminPage(get=READ, query={"s": "=transactions"}),
    "autocomplete": AdminPage(
        get=READ, query={"app_label": "=ledger", "model_name": "=transaction", "field_name": "=category", "term": "="}
    ),
    "view_on_site": AdminPage(get=NOBODY, kwargs={"content_type_id": "account_type", "object_id": "account"}),
    "auth_user_password_change": AdminPage(get=SELF, obj="owner"),
    # Custom pages of the budgets and uploads admins.
    "budgets_dashboard": AdminPage(get=READ, query={"household": "household"}),
    "budgets_budget_month": AdminPage(
        get=READ, post=WRITE, query={"household": "household", "month": "=2024-02"}, data={"action": "=copy_previous"}
    ),
    **{
        f"budgets_report_{report}": AdminPage(get=READ, query={"household": "household"})
        for report in ("cashflow", "spending", "net_worth", "forecast")
    },
    "uploads_import_wizard": AdminPage(get=WRITE, post=WRITE, data={"account": "account"}),
    "uploads_import_wizard_map": AdminPage(get=WRITE, post=WRITE, obj="statement_import", data={"date": "=Date"}),
    "uploads_import_wizard_map:auto": AdminPage(get=WRITE, obj="statement_import", query={"auto": "=1"}, ok=(302,)),
    "uploads_import_wizard_preview": AdminPage(get=READ, post=WRITE, obj="statement_import"),
    # The register (an account's transaction list) and its quick entry and payee suggestions.
    "ledger_transaction_changelist:register": AdminPage(get=READ, query={"account__id__exact": "account"}),
    "ledger_transaction_quick_entry": AdminPage(
        post=WRITE, data={"account": "account", "date": "=2024-02-03", "payee": "=Quick", "amount": "=-1.00"}
    ),
    "ledger_transaction_payees": AdminPage(get=READ, query={"account": "account", "term": "="}),
    # Registered models.
    **admin_model("ledger_household", "household", add=SIGNED_IN, delete=OWNER),
    **admin_model("ledger_membership", "membership", add=NOBODY, delete=OWNER),
    # Owners make and revoke invitations (revoking keeps the record; deleting it is for superusers). Its pages
    # answer others as for a missing row, which SELF expresses: among the personas only the owner sees it.
    **admin_model(
        "ledger_invitation", "invitation", changelist=OWNER, add=OWNER, change=SELF, delete=NOBODY, history=SELF
    ),
    # The signed-in person's own invitations: the personas have none, so no row of either household is theirs.
    **admin_model(
        "ledger_receivedinvitation",
        "invitation",
        changelist=SIGNED_IN,
        add=NOBODY,
        change=HIDDEN,
        delete=NOBODY,
        history=HIDDEN,
    ),
    **admin_model("ledger_user", "owner", add=NOBODY, delete=NOBODY),
    **admin_model("ledger_apitoken", "token", add=SIGNED_IN, change=SELF, delete=NOBODY, history=SELF),
    **admin_model("ledger_auditentry", "audit", add=NOBODY, delete=NOBODY),
    **admin_model("ledger_account", "account"),
    **admin_model("ledger_category", "category"),
    **admin_model("ledger_tag", "tag"),
    **admin_model("ledger_transaction", "transaction"),
    **admin_model("ledger_transfer", "transfer"),
    **admin_model("ledger_reconciliation", "reconciliation", delete=OWNER),
    **admin_model("ledger_rule", "rule"),
    **admin_model("budgets_budget", "budget"),
    **admin_model("budgets_scheduledtransaction", "scheduled"),
    **admin_model("budgets_exchangerate", "rate", add=NOBODY, delete=NOBODY),
    **admin_model("auth_group", "group", changelist=NOBODY, add=NOBODY, change=NOBODY, delete=NOBODY, history=NOBODY),
    **admin_model("uploads_attachment", "attachment", add=NOBODY),
    **admin_model("uploads_csvprofile", "csv_profile", add=NOBODY),
    **admin_model("uploads_statementimport", "statement_import", add=NOBODY),
    # Actions (delete_selected is the site's; the others are declared by the model admins).
    **admin_action("ledger_household", "delete_selected", OWNER, "household"),
    **admin_action("ledger_membership", "delete_selected", OWNER, "membership"),
    **admin_action("ledger_invitation", "delete_selected", NOBODY, "invitation"),
    **admin_action("ledger_invitation", "revoke_invitations", OWNER, "invitation"),
    **admin_action("ledger_receivedinvitation", "delete_selected", NOBODY, "invitation"),
    **admin_action("ledger_receivedinvitation", "accept_invitations", SIGNED_IN, "invitation"),
    **admin_action("ledger_receivedinvitation", "decline_invitations", SIGNED_IN, "invitation"),
    **admin_action("ledger_user", "delete_selected", NOBODY, "owner"),
    **admin_action("ledger_apitoken", "delete_selected", NOBODY, "token"),
    **admin_action("ledger_apitoken", "revoke_tokens", SELF, "token"),
    **admin_action("ledger_auditentry", "delete_selected", NOBODY, "audit"),
    **admin_action("ledger_account", "delete_selected", WRITE, "account"),
    **admin_action("ledger_category", "delete_selected", WRITE, "category"),
    **admin_action("ledger_tag", "delete_selected", WRITE, "tag"),
    **admin_action("ledger_transaction", "delete_selected", WRITE, "transaction"),
    **admin_action("ledger_transaction", "mark_cleared", WRITE, "transaction"),
    **admin_action("ledger_transaction", "set_category", WRITE, "transaction", apply="=1", category="category"),
    **admin_action("ledger_transaction", "export_csv", READ, "transaction"),
    **admin_action("ledger_transaction", "apply_rules", WRITE, "transaction"),
    **admin_action("ledger_transaction", "unreconcile", WRITE, "reconciled_transaction"),
    **admin_action("ledger_transfer", "delete_selected", WRITE, "transfer"),
    **admin_action("ledger_reconciliation", "delete_selected", OWNER, "reconciliation"),
    **admin_action("ledger_rule", "delete_selected", WRITE, "rule"),
    **admin_action("budgets_budget", "delete_selected", WRITE, "budget"),
    **admin_action("budgets_scheduledtransaction", "delete_selected", WRITE, "scheduled"),
    **admin_action("budgets_exchangerate", "delete_selected", NOBODY, "rate"),
    **admin_action("auth_group", "delete_selected", NOBODY, "group"),
    **admin_action("uploads_attachment", "delete_selected", WRITE, "attachment"),
    **admin_action("uploads_csvprofile", "delete_selected", WRITE, "csv_profile"),
    **admin_action("uploads_statementimport", "delete_selected", WRITE, "statement_import"),
}
