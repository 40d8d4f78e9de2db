"""Invitations: the only way a person joins a household they did not create.

An owner invites a username or e-mail with a role; a Membership exists only once the invited person accepts.
The invitation never tells the owner whether that person exists: `invitee` is resolved when the invitation is
made, but it is never shown to the household, and every invitation looks the same to them.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from financetracker.core.tenancy import OWNER_ROLES, HouseholdOwned, Policy, Role
from ledger.models.households import User


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


# The states people read (the API's `status`): a pending invitation past its expiry reads "expired".
INVITATION_STATES = [*InvitationStatus.values, "expired"]


class Invitation(HouseholdOwned):
    """A standing offer of a role in a household. Only a SHA-256 of its code is stored; the code is shown once."""

    # Owners see, make and revoke invitations; editors and viewers do not see who is invited. Deleting the
    # record (rather than revoking) is for superusers cleaning up: no role grants it.
    household_policy: ClassVar[Policy] = {"view": OWNER_ROLES, "add": OWNER_ROLES, "change": OWNER_ROLES, "delete": ()}

    # What the owner typed (a username or an e-mail address): the household's only view of the person.
    invited_as = models.CharField(max_length=254)
    # The active person `invited_as` named when the invitation was made, if any. Never shown to the household.
    invitee = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="invitations")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VIEWER)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    token_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One pending invitation per person named: inviting again replaces it (services revoke the old one).
            models.UniqueConstraint(
                F("household"),
                Lower("invited_as"),
                condition=Q(status="pending"),
                name="invitation_one_pending_per_name",
            ),
            models.UniqueConstraint(fields=["household", "token_hash"], name="invitation_household_token_unique"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
            models.CheckConstraint(condition=Q(status__in=InvitationStatus.values), name="invitation_status_valid"),
        ]
        indexes = [
            # "My pending invitations" reads across households by person, like the membership index.
            models.Index(fields=["invitee", "status"], name="invitation_invitee_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.invited_as} as {self.role}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def state(self) -> str:
        """The status as people read it: a pending invitation past its expiry is "expired"."""
        if self.status == InvitationStatus.PENDING and self.is_expired:
            return "expired"
        return str(self.status)


class ReceivedInvitation(Invitation):
    """The invited person's view of their invitations (its own admin page, with accept and decline)."""

    class Meta:
        proxy = True
        verbose_name = "invitation to me"
        verbose_name_plural = "invitations to me"
