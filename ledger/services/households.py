"""Households and their members. People join a household they did not create through an invitation
(`ledger.services.invitations`); `membership_set` is for the household's own setup (fixtures, the demo)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction

from financetracker.core.errors import ConflictError
from financetracker.core.tenancy import forget_household_roles
from ledger.audit import audit_created, audit_deleted, audit_updated, save_changes, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import Household, Membership, Role, User

# What an owner may set on a household, in form order (ledger/editable_fields.py); members come by invitation.
HOUSEHOLD_EDITABLE_FIELDS = EditableFields(Household, ("name", "base_currency", "budget_month_start_day"), owner=None)


@transaction.atomic
def household_create(*, owner: User, **fields: Any) -> Household:
    """A household from HOUSEHOLD_EDITABLE_FIELDS, owned by `owner`; what is not given takes the model's default."""
    HOUSEHOLD_EDITABLE_FIELDS.reject_unknown(fields)
    household = Household(**fields)
    household.full_clean()
    household.save()
    membership = Membership.objects.create(household=household, user=owner, role=Role.OWNER)
    audit_created(membership)
    forget_household_roles(owner)
    return household


def household_create_personal(*, user: User) -> Household:
    label = user.get_full_name() or user.get_username()
    return household_create(owner=user, name=f"{label}'s household")


@transaction.atomic
def user_sign_up(*, username: str, password: str | None = None, email: str = "", **fields: Any) -> User:
    """A new person and their personal household, which they own. Every way of signing a person up calls this;
    saving a User elsewhere (createsuperuser, a household restore) creates no household."""
    user = User.objects.create_user(username, email=email, password=password, **fields)
    household_create_personal(user=user)
    return user


@transaction.atomic
def household_update(*, household: Household, **fields: object) -> Household:
    HOUSEHOLD_EDITABLE_FIELDS.reject_unknown(fields)
    return save_changes(household, fields, validate=Household.full_clean)


@transaction.atomic
def membership_set(*, household: Household, user: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    membership, created = Membership.objects.select_for_update().get_or_create(
        household=household, user=user, defaults={"role": role}
    )
    if created:
        audit_created(membership)
    if membership.role != role:
        _ensure_an_owner_remains(household=household, leaving=membership, new_role=role)
        before = snapshot(membership)
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
        audit_updated(membership, before=before)
    forget_household_roles(user)
    return membership


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    """An owner changes a member's role; the last owner cannot be demoted (ConflictError)."""
    return membership_set(household=membership.household, user=membership.user, role=role)


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _ensure_an_owner_remains(household=membership.household, leaving=membership, new_role=None)
    audit_deleted(membership)
    membership.delete()
    forget_household_roles(membership.user)


def _ensure_an_owner_remains(*, household: Household, leaving: Membership, new_role: str | None) -> None:
    if leaving.role != Role.OWNER or new_role == Role.OWNER:
        return
    # Lock the owners so two concurrent demotions cannot both pass this check.
    owners = list(
        Membership.objects.select_for_update().filter(household=household, role=Role.OWNER).values_list("id", flat=True)
    )
    if owners == [leaving.id]:
        raise ConflictError("A household needs at least one owner.")


@transaction.atomic
def household_delete(*, household: Household) -> None:
    """Delete a household and everything in it, reconciled history included (owners only)."""
    from ledger.models import Account, Category, Transaction, Transfer

    with connection.cursor() as cursor:
        # Lifts the reconciliation lock for this database transaction only (see migration 0002).
        cursor.execute("SET LOCAL ledger.allow_reconciled_changes = 'on'")
    # PROTECT refuses to delete a row still in use even when its users go in the same cascade, so the
    # users go first: transactions (with splits and tag links), transfers, then whatever else protects
    # categories and accounts (e.g. scheduled transactions), subcategories, and the household last.
    Transaction.objects.filter(household=household).delete()
    Transfer.objects.filter(household=household).delete()
    for model in (Category, Account):
        for relation in model._meta.related_objects:
            if relation.on_delete is models.PROTECT and relation.related_model is not model:
                related_model: type[models.Model] = relation.related_model
                related_model._base_manager.filter(**{f"{relation.field.name}__household": household}).delete()
    Category.objects.filter(household=household, parent__isnull=False).delete()
    household.delete()
    with connection.cursor() as cursor:
        # Back on at once: the caller's transaction may go on to touch other households' books.
        cursor.execute("SET LOCAL ledger.allow_reconciled_changes = 'off'")
