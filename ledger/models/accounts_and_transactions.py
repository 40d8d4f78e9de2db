"""Accounts, categories, tags, transactions, splits, transfers and reconciliations.

Cross-row invariants (splits sum to the amount, transfer pairs, the reconciliation lock, two-level
categories, household walls between related rows, monthly account totals) are enforced by PostgreSQL
triggers and composite foreign keys created in migration 0002; `manage.py check_ledger` proves them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Upper

from financetracker.core.money import (
    AMOUNT_DECIMAL_PLACES,
    AMOUNT_MAX_DIGITS,
    CURRENCY_CHOICES,
    MONTH_TOTAL_MAX_DIGITS,
    display_amount,
)
from financetracker.core.tenancy import MEMBER_POLICY, OWNER_ROLES, HouseholdOwned, Policy
from ledger.models.households import Household, User


def amount_field(**kwargs: Any) -> models.DecimalField:
    return models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, **kwargs)


def household_id_unique(model_name: str) -> models.UniqueConstraint:
    # Target of composite foreign keys (household_id, id) so a child row cannot point across households.
    return models.UniqueConstraint(fields=["household", "id"], name=f"{model_name}_household_id_unique")


class AccountKind(models.TextChoices):
    CHECKING = "checking", "Checking"
    SAVINGS = "savings", "Savings"
    CREDIT_CARD = "credit_card", "Credit card"
    CASH = "cash", "Cash"
    INVESTMENT = "investment", "Investment"
    LOAN = "loan", "Loan"
    OTHER_ASSET = "other_asset", "Other asset"
    OTHER_LIABILITY = "other_liability", "Other liability"


class Account(HouseholdOwned):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=AccountKind.choices, default=AccountKind.CHECKING)
    currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES)
    opening_balance = amount_field(default=0)
    opening_date = models.DateField()
    institution = models.CharField(max_length=120, blank=True)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "name"], name="account_household_name_unique"),
            household_id_unique("account"),
            models.CheckConstraint(condition=Q(kind__in=AccountKind.values), name="account_kind_valid"),
            models.CheckConstraint(condition=Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_iso"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"


# Categories as a tree: "Food", "Food > Groceries", "Shopping", "Shopping > Clothing" — by the top-level
# name, each parent before its children (a child's own name alone put "Shopping > Clothing" before "Food").
CATEGORY_TREE_ORDER = (
    Coalesce("parent__name", "name"),
    Coalesce("parent_id", "id"),
    F("parent_id").asc(nulls_first=True),
    "name",
    "id",
)


class CategoryKind(models.TextChoices):
    EXPENSE = "expense", "Expense"
    INCOME = "income", "Income"


class Category(HouseholdOwned):
    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    kind = models.CharField(max_length=10, choices=CategoryKind.choices, default=CategoryKind.EXPENSE)
    archived = models.BooleanField(default=False)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name", "id"]
        constraints = [
            # NULLS NOT DISTINCT: two top-level categories called "Food" would otherwise both pass.
            models.UniqueConstraint(
                fields=["household", "parent", "name"],
                name="category_household_parent_name_unique",
                nulls_distinct=False,
            ),
            household_id_unique("category"),
            models.CheckConstraint(condition=Q(kind__in=CategoryKind.values), name="category_kind_valid"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name


class Tag(HouseholdOwned):
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "name"], name="tag_household_name_unique"),
            household_id_unique("tag"),
        ]

    def __str__(self) -> str:
        return self.name


class Transfer(HouseholdOwned):
    """Links the two sides of a transfer; PostgreSQL keeps the pair whole (see migration 0002)."""

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [household_id_unique("transfer")]

    def __str__(self) -> str:
        # "Checking → Savings 2,500.00 EUR" (the sides are prefetched on lists; one query otherwise).
        sides = sorted(self.transactions.all(), key=lambda side: side.amount) if self.pk else []
        if len(sides) != 2:
            return f"Transfer #{self.pk}"
        sent, received = sides
        return f"{sent.account.name} → {received.account.name} {display_amount(-sent.amount, sent.account.currency)}"


class TransactionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLEARED = "cleared", "Cleared"
    RECONCILED = "reconciled", "Reconciled"


# The hottest table: every index and foreign-key check is paid per imported row. The composite
# (household_id, x_id) foreign keys of migration 0002 already guarantee what the single-column ones did
# (and the household through the account), and the (household_id, …) indexes serve their lookups, so
# the single-column constraints and indexes are left out here (db_index/db_constraint False). Django
# still applies on_delete.


class Transaction(HouseholdOwned):
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="transactions", db_index=False, db_constraint=False
    )
    date = models.DateField()
    # Signed: negative is money out of the account.
    amount = amount_field()
    payee = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=10, choices=TransactionStatus.choices, default=TransactionStatus.CLEARED)
    transfer = models.ForeignKey(
        Transfer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="transactions",
        db_index=False,
        db_constraint=False,
    )
    tags = models.ManyToManyField(Tag, through="TransactionTag", related_name="transactions", blank=True)
    # No index: nothing looks rows up by author, and deleting a person is rare enough to scan.
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    updated_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [
            household_id_unique("transaction"),
            models.CheckConstraint(condition=Q(status__in=TransactionStatus.values), name="transaction_status_valid"),
            models.CheckConstraint(
                condition=Q(transfer__isnull=True) | ~Q(amount=0), name="transaction_transfer_nonzero"
            ),
        ]
        indexes = [
            # The transaction list: newest first within a household, with a stable cursor on (date, id).
            models.Index(fields=["household", "-date", "-id"], name="tx_household_date_idx"),
            # Account registers, balance-as-of (rows of the current month) and account filters.
            models.Index(fields=["household", "account", "date", "id"], name="tx_household_acct_date_idx"),
            # Budget and spending reports: a category's rows within a date range.
            models.Index(fields=["household", "category", "date"], name="tx_household_cat_date_idx"),
            models.Index(fields=["transfer"], name="tx_transfer_idx", condition=Q(transfer__isnull=False)),
            # Text search (?search=): Django's icontains is UPPER(col) LIKE UPPER('%…%'), so the trigram
            # indexes are on UPPER(col) — an index on the bare column would never be used.
            GinIndex(OpClass(Upper("payee"), name="gin_trgm_ops"), name="tx_payee_upper_trgm_idx"),
            GinIndex(OpClass(Upper("description"), name="gin_trgm_ops"), name="tx_description_upper_trgm_idx"),
        ]

    def __str__(self) -> str:
        # Titles, breadcrumbs, messages and audit text read this: "Kaufland -134.21 EUR on 2024-04-01".
        label = self.payee or self.description or "Transaction"
        return f"{label} {display_amount(self.amount, self.currency, signed=True)} on {self.date:%Y-%m-%d}"

    @property
    def is_reconciled(self) -> bool:
        return self.status == TransactionStatus.RECONCILED

    @property
    def currency(self) -> str:
        # Lists annotate `account_currency` instead of loading an Account object per row.
        annotated = self.__dict__.get("account_currency")
        return str(annotated) if annotated else self.account.currency


class Split(HouseholdOwned):
    """A categorised part of a transaction; a transaction's splits sum exactly to its amount."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="splits")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="splits")
    amount = amount_field()
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["household", "transaction"], name="split_household_tx_idx"),
            models.Index(fields=["household", "category"], name="split_household_cat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {display_amount(self.amount, self.transaction.currency, signed=True)}"


class TransactionTag(HouseholdOwned):
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="transaction_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "transaction", "tag"], name="transactiontag_household_tx_tag_unique"
            )
        ]
        indexes = [models.Index(fields=["household", "tag"], name="txtag_household_tag_idx")]


class AccountMonthTotal(HouseholdOwned):
    """Sum and count of an account's transactions per calendar month, kept by a statement-level trigger.

    Balances read ≤ 12 rows a year per account instead of summing a million transactions.
    """

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the calendar month.")
    # Wider than an amount: a month may hold any number of rows (see financetracker.core.money.AMOUNT_LIMIT).
    total = models.DecimalField(max_digits=MONTH_TOTAL_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=0)
    row_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "account", "month"], name="accountmonthtotal_household_account_month_unique"
            )
        ]


class CategoryDayTotal(HouseholdOwned):
    """Sum and count of the categorised entries (split lines, or whole unsplit transactions; never transfers)
    per category, day and account currency, kept by statement-level triggers (migration 0008).

    A budget month reads ≤ 31 rows per category and currency instead of every transaction and split line.
    `inflow` is the sum of the positive entries alone. Written only by the triggers; read by the reports.
    """

    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    date = models.DateField()
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=MONTH_TOTAL_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=0)
    inflow = models.DecimalField(max_digits=MONTH_TOTAL_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES, default=0)
    entry_count = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["household", "date", "category", "currency"],
                name="categorydaytotal_household_date_category_currency_unique",
                nulls_distinct=False,
            )
        ]


class Reconciliation(HouseholdOwned):
    """A statement an account was reconciled against."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reconciliations")
    statement_date = models.DateField()
    statement_balance = amount_field()
    transaction_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    # Deleting the record of a statement is the owners' call; its transactions stay reconciled.
    household_policy: ClassVar[Policy] = {**MEMBER_POLICY, "delete": OWNER_ROLES}

    class Meta:
        ordering = ["-statement_date", "-id"]
        indexes = [models.Index(fields=["household", "account", "-statement_date"], name="reconciliation_account_idx")]
