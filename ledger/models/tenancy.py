"""People, households and the one mechanism that scopes every query to a person's households."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from ledger.money import CURRENCY_CHOICES

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


class User(AbstractUser):
    """Custom from the first migration so the user table can grow without a painful swap later."""

    class Meta:
        db_table = "ledger_user"


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


WRITE_ROLES = (Role.OWNER, Role.EDITOR)


def household_roles(user: User | AnonymousUser | Any) -> dict[int, str]:
    """{household_id: role} for a person, read once and memoised on the user object (one per request).

    Scoped queries filter on these ids as literals: PostgreSQL then walks the (household_id, …) indexes
    in order, where `household_id IN (SELECT …)` made it scan and sort a whole household.
    """
    if user is None or not user.is_authenticated:
        return {}
    cached: dict[int, str] | None = getattr(user, "_household_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user_id=user.pk).values_list("household_id", "role"))  # type: ignore[misc]
        user._household_roles = cached  # type: ignore[union-attr]
    return cached


def forget_household_roles(user: User | Any) -> None:
    """Drop the memo after a membership change, so the same user object sees it."""
    if hasattr(user, "_household_roles"):
        del user._household_roles


def _member_household_ids(user: User | AnonymousUser | Any, roles: tuple[str, ...] | None) -> list[int]:
    return [pk for pk, role in household_roles(user).items() if roles is None or role in roles]


class HouseholdQuerySet(models.QuerySet[Any]):
    """The single scoping mechanism: every API view and admin page starts from these methods."""

    household_field = "household_id"

    def visible_to(self, user: User | AnonymousUser | Any) -> Self:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(**{f"{self.household_field}__in": _member_household_ids(user, None)})

    def writable_by(self, user: User | AnonymousUser | Any) -> Self:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(**{f"{self.household_field}__in": _member_household_ids(user, WRITE_ROLES)})

    def owned_by(self, user: User | AnonymousUser | Any) -> Self:
        if user is None or not user.is_authenticated:
            return self.none()
        return self.filter(**{f"{self.household_field}__in": _member_household_ids(user, (Role.OWNER,))})


class HouseholdManagerQuerySet(HouseholdQuerySet):
    household_field = "id"


class Household(models.Model):
    name = models.CharField(max_length=120)
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    # The day a budget month starts (payday). Capped at 28 so every month has that day.
    budget_month_start_day = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HouseholdManagerQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_month_start_day__gte=1) & Q(budget_month_start_day__lte=28),
                name="household_budget_month_start_day_1_28",
            ),
            models.CheckConstraint(condition=Q(base_currency__regex=r"^[A-Z]{3}$"), name="household_base_currency_iso"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "user"], name="membership_household_user_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]
        indexes = [
            # Every scoped query asks "which households may this user see?" through this index.
            models.Index(fields=["user", "household", "role"], name="membership_user_household_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.household} ({self.role})"


class HouseholdOwned(models.Model):
    """Base for every household-owned table."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        abstract = True


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="API token")
    prefix = models.CharField(max_length=12, help_text="The first characters, to recognise a token.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
