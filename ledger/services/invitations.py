"""Invitations: an owner offers a role, the invited person accepts or declines; only acceptance makes a member.

Nothing an owner does here tells them whether the name they typed belongs to anyone: the invitation is made,
audited and answered the same way for a stranger, a nonexistent name or someone already in the household.
"""

from __future__ import annotations

import datetime
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, Value
from django.db.models.functions import Lower
from django.utils import timezone

from financetracker.core.errors import ConflictError
from financetracker.core.tenancy import forget_household_roles
from ledger.audit import audit_created, audit_record
from ledger.editable_fields import EditableFields
from ledger.models import Household, Invitation, InvitationStatus, Membership, Role, User
from ledger.models.audit import AuditAction
from ledger.services.tokens import token_hash

# What an owner gives when inviting (ledger/editable_fields.py); an invitation is never edited, only answered.
INVITATION_EDITABLE_FIELDS = EditableFields(Invitation, ("invited_as", "role"))

INVITATION_LIFETIME = datetime.timedelta(days=7)
INVITATION_CODE_PREFIX = "fti_"  # a recognisable prefix, not a secret


def _audit_state(invitation: Invitation) -> dict[str, object]:
    # Every member reads the household's history: never the invitee (whether the name matched a person) nor
    # the name typed (it may be the e-mail address of someone who never joins).
    return {
        "role": invitation.role,
        "status": invitation.status,
        "expires_at": invitation.expires_at,
    }


def _audit(
    action: str, invitation: Invitation, *, before: dict[str, object] | None = None, actor: User | None = None
) -> None:
    audit_record(
        action=action,
        instance=invitation,
        object_repr=f"invitation {invitation.pk} as {invitation.role}",
        household_id=invitation.household_id,
        before=before,
        after=_audit_state(invitation),
        actor=actor,
    )


def _resolve_invitee(invited_as: str) -> User | None:
    """The one active person the owner named by username or e-mail, or None.

    One query whatever the name, so not even the time taken differs between a person and nobody.
    """
    named = Q(username__iexact=invited_as)
    if "@" in invited_as:
        named |= Q(email__iexact=invited_as)
    candidates = list(User.objects.filter(named, is_active=True).order_by("pk")[:10])
    folded = invited_as.casefold()
    # The exact username first; then a name differing in case only, then an e-mail, each only when it fits
    # exactly one account (an address shared by two accounts names nobody in particular).
    for fits in (
        lambda person: person.get_username() == invited_as,
        lambda person: person.get_username().casefold() == folded,
        lambda person: person.email.casefold() == folded,
    ):
        matches = [person for person in candidates if fits(person)]
        if len(matches) == 1:
            return matches[0]
    return None


@transaction.atomic
def invitation_create(*, household: Household, invited_by: User, invited_as: str, role: str) -> tuple[Invitation, str]:
    """Invite a username or e-mail with a role. Returns the invitation and its code (shown once, stored hashed).

    Inviting the same name again replaces the pending invitation, so the latest role and code count.
    """
    invited_as = invited_as.strip()
    errors: dict[str, list[str]] = {}
    if not invited_as or len(invited_as) > 254:
        errors["invitee"] = ["Give a username or an e-mail address (at most 254 characters)."]
    if role not in Role.values:
        errors["role"] = [f"Choose one of: {', '.join(Role.values)}."]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    # Compared as the unique constraint compares (PostgreSQL's lower()), so the replaced one is never missed.
    for previous in (
        Invitation.objects.select_for_update()
        .alias(name=Lower("invited_as"))
        .filter(household=household, name=Lower(Value(invited_as)), status=InvitationStatus.PENDING)
    ):
        _close(previous, InvitationStatus.REVOKED, now=now)
    code = INVITATION_CODE_PREFIX + secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        household=household,
        invited_as=invited_as,
        invitee=_resolve_invitee(invited_as),
        role=role,
        invited_by=invited_by,
        token_hash=token_hash(code),
        expires_at=now + INVITATION_LIFETIME,
    )
    _audit(AuditAction.CREATE, invitation, actor=invited_by)
    return invitation, code


def _close(invitation: Invitation, status: str, *, now: datetime.datetime | None = None) -> Invitation:
    before = _audit_state(invitation)
    invitation.status = status
    invitation.responded_at = now or timezone.now()
    invitation.save(update_fields=["status", "responded_at"])
    _audit(AuditAction.UPDATE, invitation, before=before)
    return invitation


def _ensure_pending(invitation: Invitation) -> None:
    if invitation.status != InvitationStatus.PENDING:
        raise ConflictError(f"This invitation was already {invitation.status}.")
    if invitation.is_expired:
        raise ConflictError("This invitation has expired; ask the household's owner for a new one.")


def _locked(invitation: Invitation) -> Invitation:
    # Two answers at once (accept in the API, revoke in the admin) must not both win.
    return Invitation.objects.select_for_update().select_related("household").get(pk=invitation.pk)


def _locked_pending_for(invitation: Invitation, user: User) -> Invitation:
    """The invitation locked, refused unless it is addressed to `user` and still pending (accept, decline)."""
    invitation = _locked(invitation)
    if invitation.invitee_id != user.pk:
        raise ConflictError("This invitation is for someone else.")
    _ensure_pending(invitation)
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person joins the household with the invitation's role (or keeps the membership they have)."""
    invitation = _locked_pending_for(invitation, user)
    membership = Membership.objects.filter(household_id=invitation.household_id, user=user).first()
    if membership is None:
        membership = Membership.objects.create(household_id=invitation.household_id, user=user, role=invitation.role)
        audit_created(membership, actor=user)
    _close(invitation, InvitationStatus.ACCEPTED)
    forget_household_roles(user)
    return membership


@transaction.atomic
def invitation_decline(*, invitation: Invitation, user: User) -> Invitation:
    invitation = _locked_pending_for(invitation, user)
    return _close(invitation, InvitationStatus.DECLINED)


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> Invitation:
    """An owner withdraws a pending invitation; its code stops working at once."""
    invitation = _locked(invitation)
    if invitation.status != InvitationStatus.PENDING:
        raise ConflictError(f"This invitation was already {invitation.status}.")
    return _close(invitation, InvitationStatus.REVOKED)


def invitation_for_code(*, code: str, user: User) -> Invitation | None:
    """The invitation a code opens for this person, in any state; None for a code that is not theirs.

    An invitation made before the person had an account (or changed their e-mail) names them by what the owner
    typed; the code is the proof the owner meant them, so it is bound to them on first use.
    """
    if not code.startswith(INVITATION_CODE_PREFIX) or len(code) > 100:
        return None
    found = Invitation.objects.filter(token_hash=token_hash(code)).first()
    if found is None:
        return None
    if found.invitee_id == user.pk:
        return found
    names = {user.get_username().casefold(), user.email.casefold()} - {""}
    if found.invitee_id is None and found.status == InvitationStatus.PENDING and found.invited_as.casefold() in names:
        Invitation.objects.filter(pk=found.pk, invitee__isnull=True).update(invitee=user)
        found.invitee = user
        return found
    return None
