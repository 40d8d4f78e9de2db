"""The expectation table: who may do what on every route. The matrix tests assert it covers exactly the routes
the code declares, so a new route without an entry here fails them.

API entries are keyed by URL name; each maps HTTP methods to an access rule (below) and says which seeded row
fills the URL (`obj="account"`, keys of `world.Seeded.ids`). Admin entries are keyed by URL name too: standard
model pages come from `admin_model(...)`, actions from `admin_actions(...)`, custom pages are listed one by one.

Access rules, for a persona whose own household the row belongs to (another household's row must answer exactly
like a missing one, whatever the rule):
- PUBLIC: anyone, signed in or not, gets the same non-error answer.
- SIGNED_IN: any signed-in person reads it (lists, shared reference data); anonymous is refused.
- READ: every member of the row's household reads it (200).
- WRITE: owners and editors may (any answer but 401/403/404/5xx); viewers get 403.
- CREATE: a list's POST. Owners and editors may; a viewer is refused (400 before a complete body is read,
  else 403) and nothing is written.
- OWNER: owners may; editors and viewers get 403.
- SHARED_WRITE: only a superuser or someone granted the model's own permission: every persona gets 403.
- INVITEE: only the person an invitation is addressed to (none of the personas): everyone else gets the 404 of
  a missing row, their own household's invitations included (tests/ledger/test_invitations*.py cover the invitee).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PUBLIC = "public"
SIGNED_IN = "signed_in"
READ = "read"
WRITE = "write"
CREATE = "create"
OWNER = "owner"
SHARED_WRITE = "shared_write"
INVITEE = "invitee"


@dataclass(frozen=True)
class Api:
    methods: Mapping[str, str]
    obj: str | None = None  # the seeded row whose id fills <pk>
    kwargs: Mapping[str, str] = field(default_factory=dict)  # other URL kwargs → seeded row
    query: Mapping[str, str] = field(default_factory=dict)  # fixed query parameters
    scope: str | None = None  # a required query parameter naming the household (reports)
    filters: Mapping[str, str] = field(default_factory=dict)  # list filters → seeded row, probed for the oracle
    body: Mapping[str, str] = field(default_factory=dict)  # write body fields naming a seeded row


DETAIL = {"get": READ, "put": WRITE, "patch": WRITE, "delete": WRITE}
LIST = {"get": SIGNED_IN, "post": CREATE}

API: dict[str, Api] = {
    "api-schema": Api({"get": PUBLIC}),
    "api-docs": Api({"get": PUBLIC}),
    "api-redoc": Api({"get": PUBLIC}),
    "api-token-obtain": Api({"post": PUBLIC}),
    "household-list": Api({"get": SIGNED_IN, "post": SIGNED_IN}),
    "household-detail": Api({"get": READ, "put": OWNER, "patch": OWNER, "delete": OWNER}, obj="household"),
    "household-invitations": Api({"get": OWNER, "post": OWNER}, obj="household"),
    "household-revoke-invitation": Api({"post": OWNER}, obj="household", kwargs={"invitation_id": "invitation"}),
    "household-change-member": Api(
        {"patch": OWNER, "delete": OWNER}, obj="household", kwargs={"membership_id": "membership"}
    ),
    "invitation-list": Api({"get": SIGNED_IN}),
    "invitation-detail": Api({"get": INVITEE}, obj="invitation"),
    "invitation-accept": Api({"post": INVITEE}, obj="invitation"),
    "invitation-decline": Api({"post": INVITEE}, obj="invitation"),
    "invitation-accept-code": Api({"post": SIGNED_IN}),
    "account-list": Api(LIST, filters={"household": "household"}, body={"household": "household"}),
    "account-detail": Api(DETAIL, obj="account"),
    "account-balance": Api({"get": READ}, obj="account"),
    "account-reconcile": Api({"post": WRITE}, obj="account"),
    "category-list": Api(
        LIST, filters={"household": "household", "parent": "parent_category"}, body={"household": "household"}
    ),
    "category-detail": Api(DETAIL, obj="category"),
    "tag-list": Api(LIST, filters={"household": "household"}, body={"household": "household"}),
    "tag-detail": Api(DETAIL, obj="tag"),
    "transaction-list": Api(
        LIST,
        filters={"household": "household", "account": "account", "category": "category", "tag": "tag"},
        body={"account": "account"},
    ),
    "transaction-detail": Api(DETAIL, obj="transaction"),
    "transaction-history": Api({"get": READ}, obj="transaction"),
    "transaction-unreconcile": Api({"post": WRITE}, obj="reconciled_transaction"),
    "transfer-list": Api(LIST, filters={"household": "household"}, body={"from_account": "account"}),
    "transfer-detail": Api({"get": READ, "delete": WRITE}, obj="transfer"),
    "audit-list": Api({"get": SIGNED_IN}, filters={"household": "household"}),
    "audit-detail": Api({"get": READ}, obj="audit"),
    "rule-list": Api(LIST, filters={"household": "household"}, body={"household": "household"}),
    "rule-detail": Api(DETAIL, obj="rule"),
    "rule-apply": Api({"post": WRITE}, body={"household": "household"}),
    "budget-list": Api(
        LIST, filters={"household": "household", "category": "category"}, body={"household": "household"}
    ),
    "budget-detail": Api(DETAIL, obj="budget"),
    "budget-fill-from-average": Api({"post": CREATE}, body={"household": "household"}),
    "scheduled-list": Api(
        LIST, filters={"household": "household", "account": "account"}, body={"household": "household"}
    ),
    "scheduled-detail": Api(DETAIL, obj="scheduled"),
    "scheduled-upcoming": Api({"get": READ}, scope="household"),
    "exchange-rate-list": Api({"get": SIGNED_IN, "post": SHARED_WRITE}),
    "exchange-rate-detail": Api(
        {"get": SIGNED_IN, "put": SHARED_WRITE, "patch": SHARED_WRITE, "delete": SHARED_WRITE}, obj="rate"
    ),
    "report-budget": Api({"get": READ}, scope="household", query={"month": "2024-02"}),
    "report-cashflow": Api({"get": READ}, scope="household", query={"start": "2024-01", "end": "2024-03"}),
    "report-spending": Api({"get": READ}, scope="household", query={"start": "2024-01", "end": "2024-03"}),
    "report-net-worth": Api({"get": READ}, scope="household", query={"start": "2024-01", "end": "2024-03"}),
    "report-forecast": Api({"get": READ}, scope="household"),
    "attachment-list": Api(
        LIST, filters={"household": "household", "transaction": "transaction"}, body={"household": "household"}
    ),
    "attachment-detail": Api({"get": READ, "patch": WRITE, "delete": WRITE}, obj="attachment"),
    "attachment-download": Api({"get": READ}, obj="attachment"),
    "statementimport-list": Api(
        LIST, filters={"household": "household", "account": "account"}, body={"account": "account"}
    ),
    "statementimport-detail": Api({"get": READ, "delete": WRITE}, obj="statement_import"),
    "statementimport-commit": Api({"post": WRITE}, obj="statement_import"),
    "statementimport-retry": Api({"post": WRITE}, obj="statement_import"),
    "statementimport-discard": Api({"post": WRITE}, obj="statement_import"),
    "export-transactions-csv": Api({"get": SIGNED_IN}, filters={"household": "household", "account": "account"}),
}
