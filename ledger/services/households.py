from __future__ import annotations

from django.db import transaction

from ledger.errors import ConflictError
from ledger.models import Household, Membership, Role, User
from ledger.models.tenancy import forget_household_roles


@transaction.atomic
def household_create(*, owner: User, name: str, base_currency: str = "EUR", budget_month_start_day: int = 1) -> Household:
    household = Household(name=name, base_currency=base_currency, budget_month_start_day=budget_month_start_day)
    household.full_clean()
    household.save()
    Membership.objects.create(household=household, user=owner, role=Role.OWNER)
    forget_household_roles(owner)
    return household


def household_create_personal(*, user: User) -> Household:
    label = user.get_full_name() or user.get_username()
    return household_create(owner=user, name=f"{label}'s household")


@transaction.atomic
def household_update(*, household: Household, **fields: object) -> Household:
    for name, value in fields.items():
        setattr(household, name, value)
    household.full_clean()
    household.save()
    return household


@transaction.atomic
def membership_set(*, household: Household, user: User, role: str) -> Membership:
    membership, _created = Membership.objects.select_for_update().get_or_create(
        household=household, user=user, defaults={"role": role}
    )
    if membership.role != role:
        _ensure_an_owner_remains(household=household, leaving=membership, new_role=role)
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role"])
    forget_household_roles(user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    _ensure_an_owner_remains(household=membership.household, leaving=membership, new_role=None)
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
    from django.db import connection

    with connection.cursor() as cursor:
        # Lifts the reconciliation lock for this database transaction only (see migration 0002).
        cursor.execute("SET LOCAL ledger.allow_reconciled_changes = 'on'")
    household.delete()
