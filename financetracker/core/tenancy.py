"""The one mechanism that scopes every query to a person's households: roles, policies, `may`, `restrict`.

The concrete models (User, Household, Membership) are ledger's (`ledger/models/households.py`); this module
names them by label, the way Django names AUTH_USER_MODEL, and imports no app."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal, Self

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import models

from financetracker.core.dates import DATE_RANGE_MESSAGE, dates_out_of_range

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser as User  # settings.AUTH_USER_MODEL (ledger.User)

# The models restricted by, named by label: the core imports no app.
HOUSEHOLD_MODEL = "ledger.Household"
MEMBERSHIP_MODEL = "ledger.Membership"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = (Role.OWNER, Role.EDITOR)
ALL_ROLES = (Role.OWNER, Role.EDITOR, Role.VIEWER)
OWNER_ROLES = (Role.OWNER,)


# The attribute a person's {household_id: role} is memoised in, for the request's lifetime.
ROLES_MEMO = "_household_roles"


def household_roles(user: User | AnonymousUser | Any) -> dict[int, str]:
    """{household_id: role} for a person, read once and memoised on the user object (one per request).

    Scoped queries filter on these ids as literals: PostgreSQL then walks the (household_id, …) indexes
    in order, where `household_id IN (SELECT …)` made it scan and sort a whole household.
    """
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return {}
    cached: dict[int, str] | None = getattr(user, ROLES_MEMO, None)
    if cached is None:
        memberships = apps.get_model(MEMBERSHIP_MODEL)._default_manager
        cached = dict(memberships.filter(user=user).values_list("household_id", "role"))
        setattr(user, ROLES_MEMO, cached)
    return cached


def remember_household_roles(user: User | Any, roles: dict[int, str]) -> None:
    """Memoise roles read together with something else (the API token), as household_roles would."""
    setattr(user, ROLES_MEMO, roles)


def forget_household_roles(user: User | Any) -> None:
    """Drop the memo after a membership change, so the same user object sees it."""
    if hasattr(user, ROLES_MEMO):
        delattr(user, ROLES_MEMO)


# What a person may do with rows: `view` reads, `add` creates (or picks a row while creating another),
# `change` edits and runs actions, `delete` removes.
Action = Literal["view", "add", "change", "delete"]
ACTIONS: tuple[Action, ...] = ("view", "add", "change", "delete")
Policy = Mapping[str, tuple[str, ...]]

# Household-owned rows: every member reads, editors and owners write.
MEMBER_POLICY: Policy = {"view": ALL_ROLES, "add": WRITE_ROLES, "change": WRITE_ROLES, "delete": WRITE_ROLES}
# Rows only the owners manage (memberships).
OWNER_POLICY: Policy = {"view": ALL_ROLES, "add": OWNER_ROLES, "change": OWNER_ROLES, "delete": OWNER_ROLES}


def policy_for(model: type[models.Model] | None) -> Policy:
    """The roles each action needs on `model`'s rows: a model sets `household_policy`, else MEMBER_POLICY."""
    return getattr(model, "household_policy", MEMBER_POLICY) if model is not None else MEMBER_POLICY


def is_superuser(user: User | AnonymousUser | Any) -> bool:
    """The superuser rule, written once: an active superuser may do everything with every household's rows."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def household_ids_for(
    user: User | AnonymousUser | Any, action: Action, model: type[models.Model] | None = None
) -> list[int] | None:
    """The households where `user` may do `action` on `model`'s rows; None means every household."""
    roles = policy_for(model).get(action)
    if roles is None:
        raise ValueError(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.")
    if user is None or not user.is_authenticated:
        return []
    if is_superuser(user):
        return None
    return [pk for pk, role in household_roles(user).items() if role in roles]


def may(
    user: User | AnonymousUser | Any, action: Action, household_id: int | None, model: type[models.Model] | None = None
) -> bool:
    """May `user` do `action` on a `model` row of `household_id`? (None asks: in any household at all?)"""
    allowed = household_ids_for(user, action, model)
    if allowed is None:
        return True
    return bool(allowed) if household_id is None else household_id in allowed


class HouseholdQuerySet(models.QuerySet[Any]):
    """The single scoping mechanism: every API view, admin page, filter and choice starts from `restrict`."""

    household_field = "household_id"

    def restrict(
        self, user: User | AnonymousUser | Any, action: Action = "view", *, for_model: type[models.Model] | None = None
    ) -> Self:
        """The rows `user` may `action`, as NetBox's RestrictedQuerySet.restrict.

        `for_model` names the model being written when these rows are choices of one of its fields: the account
        choices of a new transaction are `Account.objects.restrict(user, "add", for_model=Transaction)`.
        """
        allowed = household_ids_for(user, action, for_model or self.model)
        if allowed is None:
            return self.all()
        # Ids as literals: PostgreSQL then walks the (household_id, …) indexes (see household_roles).
        return self.filter(**{f"{self.household_field}__in": allowed})


class HouseholdManagerQuerySet(HouseholdQuerySet):
    household_field = "id"


def may_on_shared_data(user: User | AnonymousUser | Any, action: Action, model: type[models.Model]) -> bool:
    """Reference data shared by every household (exchange rates): everyone signed in reads it; a write needs the
    model's own Django permission (`budgets.change_exchangerate`), granted explicitly — never staff status or a
    household role. Superusers hold every permission."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown action {action!r}: use one of {', '.join(ACTIONS)}.")
    if user is None or not user.is_authenticated:
        return False
    if action == "view":
        return True
    return bool(user.has_perm(f"{model._meta.app_label}.{action}_{model._meta.model_name}"))


class GlobalQuerySet(models.QuerySet[Any]):
    """The restricting queryset of shared reference data (see `may_on_shared_data`)."""

    def restrict(self, user: User | AnonymousUser | Any, action: Action = "view") -> Self:
        return self.all() if may_on_shared_data(user, action, self.model) else self.none()


class CanonicalNames(models.Model):
    """A name that must be unique (a tag, an account, a category, a rule) is kept in Unicode's composed form
    (NFC), so "Café" typed on one keyboard and "Cafe\u0301" pasted from another are the same name, refused as a
    duplicate, instead of two rows that look alike. The two forms are one text to Unicode: nothing visible changes."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        for name in unique_text_fields(type(self)):
            value = getattr(self, name)
            if name not in (exclude or ()) and isinstance(value, str):
                setattr(self, name, unicodedata.normalize("NFC", value))
        super().clean_fields(exclude)


def unique_text_fields(model: type[models.Model]) -> set[str]:
    """The text fields named by the model's unique constraints."""
    named = {name for constraint in model._meta.constraints for name in getattr(constraint, "fields", ())}
    return {
        field.name
        for field in model._meta.concrete_fields
        if field.name in named and isinstance(field, models.CharField | models.TextField)
    }


class BoundedDates(models.Model):
    """Every date field a person fills holds a date within the books' range (`financetracker.core.dates`):
    the admin's forms and the commands validate with full_clean, and refuse 9999-12-31 as the API does."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Collection[str] | None = None) -> None:
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        for name in dates_out_of_range(self, exclude):
            errors.setdefault(name, []).append(ValidationError(DATE_RANGE_MESSAGE, code="date_range"))
        if errors:
            raise ValidationError(errors)


class HouseholdOwned(BoundedDates, CanonicalNames):
    """Base for every household-owned table."""

    household = models.ForeignKey(HOUSEHOLD_MODEL, on_delete=models.CASCADE, related_name="+")

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        abstract = True
