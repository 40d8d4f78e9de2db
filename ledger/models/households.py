"""People and households: the user, the household, its memberships and personal API tokens.

The restriction mechanism that scopes every query by household is the shared core's
(`financetracker/core/tenancy.py`); these are the concrete models it restricts by.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from financetracker.core.money import CURRENCY_CHOICES
from financetracker.core.tenancy import (
    MEMBER_POLICY,
    OWNER_POLICY,
    OWNER_ROLES,
    HouseholdManagerQuerySet,
    HouseholdQuerySet,
    Policy,
    Role,
)


class User(AbstractUser):
    """Custom from the first migration so the user table can grow without a painful swap later."""

    _household_roles: dict[int, str]  # household_roles()'s memo, on this object only (not a field)

    class Meta:
        db_table = "ledger_user"


class Household(models.Model):
    name = models.CharField(max_length=120)
    base_currency = models.CharField(max_length=3, choices=CURRENCY_CHOICES, default="EUR")
    # The day a budget month starts (payday). Capped at 28 so every month has that day.
    budget_month_start_day = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = HouseholdManagerQuerySet.as_manager()
    # `add` is adding rows to the household (so its choices in a form are these); owners change or delete it.
    household_policy: ClassVar[Policy] = {**MEMBER_POLICY, "change": OWNER_ROLES, "delete": OWNER_ROLES}

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
    household_policy: ClassVar[Policy] = OWNER_POLICY

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
