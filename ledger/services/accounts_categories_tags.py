"""Accounts, categories and tags."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from financetracker.core.errors import ConflictError
from financetracker.core.money import parse_amount, validate_amount_for_currency, validate_currency
from ledger.audit import audit_deleted, save_changes, save_created
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
    return save_created(Account(household=household, **fields), validate=_validate_account)


@transaction.atomic
def account_update(*, account: Account, **fields: object) -> Account:
    ACCOUNT_EDITABLE_FIELDS.reject_unknown(fields)
    if "currency" in fields and fields["currency"] != account.currency and _has_transactions(account):
        raise ValidationError({"currency": ["An account with transactions cannot change currency."]})
    return save_changes(account, fields, validate=_validate_account)


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
    return save_created(Category(household=household, **fields), validate=_validate_category)


@transaction.atomic
def category_update(*, category: Category, **fields: object) -> Category:
    CATEGORY_EDITABLE_FIELDS.reject_unknown(fields)
    return save_changes(category, fields, validate=_validate_category)


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


def _validate_tag(tag: Tag) -> None:
    tag.name = tag.name.strip()
    tag.full_clean()


@transaction.atomic
def tag_create(*, household: Household, **fields: Any) -> Tag:
    """A tag from TAG_EDITABLE_FIELDS; what is not given takes the model's default."""
    TAG_EDITABLE_FIELDS.reject_unknown(fields)
    return save_created(Tag(household=household, **fields), validate=_validate_tag)


@transaction.atomic
def tag_update(*, tag: Tag, **fields: object) -> Tag:
    TAG_EDITABLE_FIELDS.reject_unknown(fields)
    return save_changes(tag, fields, validate=_validate_tag)


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    audit_deleted(tag)
    tag.delete()
