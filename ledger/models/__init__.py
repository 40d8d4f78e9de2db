"""The ledger's schema. Every household-owned table carries household_id, and every unique constraint and
hot index starts with it: queries are scoped by construction and the schema can be distributed by household."""

from financetracker.core.tenancy import HouseholdOwned, HouseholdQuerySet, Role
from ledger.models.accounts_and_transactions import (
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
from ledger.models.audit import AuditEntry
from ledger.models.households import ApiToken, Household, Membership, User
from ledger.models.invitations import Invitation, InvitationStatus, ReceivedInvitation
from ledger.models.rules import Rule, RuleTag

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
