"""The ledger's schema. Every household-owned table carries household_id, and every unique constraint and
hot index starts with it: queries are scoped by construction and the schema can be distributed by household."""

from ledger.models.audit import AuditEntry
from ledger.models.books import (
    Account,
    AccountKind,
    AccountMonthTotal,
    Category,
    CategoryDayTotal,
    CategoryKind,
    Reconciliation,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    TransactionTag,
    Transfer,
)
from ledger.models.invitations import Invitation, InvitationStatus, ReceivedInvitation
from ledger.models.rules import Rule, RuleTag
from ledger.models.tenancy import ApiToken, Household, HouseholdOwned, HouseholdQuerySet, Membership, Role, User

__all__ = [
    "Account",
    "AccountKind",
    "AccountMonthTotal",
    "ApiToken",
    "AuditEntry",
    "Category",
    "CategoryDayTotal",
    "CategoryKind",
    "Household",
    "HouseholdOwned",
    "HouseholdQuerySet",
    "Invitation",
    "InvitationStatus",
    "Membership",
    "ReceivedInvitation",
    "Reconciliation",
    "Role",
    "Rule",
    "RuleTag",
    "Split",
    "Tag",
    "Transaction",
    "TransactionStatus",
    "TransactionTag",
    "Transfer",
    "User",
]
