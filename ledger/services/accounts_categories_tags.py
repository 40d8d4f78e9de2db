"""Accounts, categories and tags."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from financetracker.core.errors import ConflictError
from financetracker.core.money import parse_amount, validate_amount_for_currency, validate_currency
from ledger.audit import audit_created, audit_deleted, audit_updated, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import Account, Category, Household, Tag, Transaction

# The one declaration of what a person may set on each row, in form order (ledger/editable_fields.py). The
# API serializers, the admin forms, the exports and the services' unknown-field checks derive from these
# (tests/ledger/test_editable_fields.py proves it), so a new model field listed here is carried everywhere;
# defaults and validation live on the model.
ACCOUNT_EDITABLE_FIELDS = EditableFields(
    Account, ("name", "kind", "currency", "opening_balance", "opening_date", "institution", "archived")
)
CATEGORY_EDITABLE_FIELDS = EditableFields(Category, ("name", "parent", "kind", "archived"))
TAG_EDITABLE_FIELDS = EditableFields(Tag, ("name",))


def _has_transactions(account: Account) -> bool:
    # Through the (household_id, account_id, date) index: transactions have no account-only index.
    return Transaction.objects.filter(household_id=account.household_id, account_id=account.pk).exists()


def _validate_account(account: Account) -> None:
    validate_currency(account.currency)
    account.opening_balance = parse_amount(account.opening_balance)
    try:
        validate_amount_for_currency(account.opening_balance, account.currency)
    except ValidationError as error:
        raise ValidationError({"opening_balance": error.messages}) from None
    account.full_clean(validate_unique=True)


@transaction.atomic
def account_create(*, household: Household, **fields: Any) -> Account:
    """An account from ACCOUNT_EDITABLE_FIELDS; what is not given takes the model's default."""
    ACCOUNT_EDITABLE_FIELDS.reject_unknown(fields)
    account = Account(household=household, **fields)
    _validate_account(account)
    account.save()
    audit_created(account)
    return account


@transaction.atomic
def account_update(*, account: Account, **fields: object) -> Account:
    ACCOUNT_EDITABLE_FIELDS.reject_unknown(fields)
    if "currency" in fields and fields["currency"] != account.currency and _has_transactions(account):
        raise ValidationError({"currency": ["An account with transactions cannot change currency."]})
    before = snapshot(account)
    for name, value in fields.items():
        setattr(account, name, value)
    _validate_account(account)
    account.save()
    audit_updated(account, before=before)
    return account


@transaction.atomic
def account_delete(*, account: Account) -> None:
    if _has_transactions(account):
        raise ConflictError("This account has transactions: archive it instead, or delete them first.")
    audit_deleted(account)
    account.delete()


def _validate_category(category: Category) -> None:
    parent = category.parent
    if parent is not None:
        if parent.household_id != category.household_id:
            raise ValidationError({"parent": ["Choose a category of the same household."]})
        if parent.parent_id is not None:
            raise ValidationError({"parent": ["Categories have two levels: choose a top-level parent."]})
        if parent.kind != category.kind:
            raise ValidationError({"kind": [f"A subcategory must have its parent's kind ({parent.kind})."]})
        if category.pk and Category.objects.filter(parent_id=category.pk).exists():
            raise ValidationError({"parent": ["This category has subcategories, so it cannot become one."]})
    if category.pk and Category.objects.filter(parent_id=category.pk).exclude(kind=category.kind).exists():
        # Checked here so the person gets a field message rather than the database trigger's refusal.
        raise ValidationError({"kind": ["This category has subcategories of another kind: change them first."]})
    category.full_clean(validate_unique=True, validate_constraints=True)


@transaction.atomic
def category_create(*, household: Household, **fields: Any) -> Category:
    """A category from CATEGORY_EDITABLE_FIELDS; what is not given takes the model's default."""
    CATEGORY_EDITABLE_FIELDS.reject_unknown(fields)
    # A subcategory takes its parent's kind unless told otherwise (and then must match it).
    parent = fields.get("parent")
    if not fields.get("kind"):
        fields["kind"] = parent.kind if isinstance(parent, Category) else "expense"
    category = Category(household=household, **fields)
    _validate_category(category)
    category.save()
    audit_created(category)
    return category


@transaction.atomic
def category_update(*, category: Category, **fields: object) -> Category:
    CATEGORY_EDITABLE_FIELDS.reject_unknown(fields)
    before = snapshot(category)
    for name, value in fields.items():
        setattr(category, name, value)
    _validate_category(category)
    category.save()
    audit_updated(category, before=before)
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    # Recorded first (with the row's id and values); a refused delete rolls the entry back with it.
    audit_deleted(category)
    try:
        category.delete()
    except ProtectedError:
        raise ConflictError(
            "This category is in use by transactions, splits or subcategories: archive it instead."
        ) from None


@transaction.atomic
def tag_create(*, household: Household, **fields: Any) -> Tag:
    """A tag from TAG_EDITABLE_FIELDS; what is not given takes the model's default."""
    TAG_EDITABLE_FIELDS.reject_unknown(fields)
    tag = Tag(household=household, **fields)
    tag.name = tag.name.strip()
    tag.full_clean()
    tag.save()
    audit_created(tag)
    return tag


@transaction.atomic
def tag_update(*, tag: Tag, **fields: object) -> Tag:
    TAG_EDITABLE_FIELDS.reject_unknown(fields)
    before = snapshot(tag)
    for name, value in fields.items():
        setattr(tag, name, value)
    tag.name = tag.name.strip()
    tag.full_clean()
    tag.save()
    audit_updated(tag, before=before)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    audit_deleted(tag)
    tag.delete()
