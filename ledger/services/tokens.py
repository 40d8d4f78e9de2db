"""Personal API tokens: a random secret shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from financetracker.core.tenancy import remember_household_roles
from ledger.models import ApiToken, Membership, User

TOKEN_PREFIX = "ft_"  # noqa: S105 - a recognisable prefix, not a secret


def token_hash(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is safe and keeps authentication cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str = "API token") -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "API token", prefix=secret[:10], key_hash=token_hash(secret)
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    # The person's memberships come with the token, in the same statement: every API request needs them
    # (household_roles scopes every query), and one round trip fewer is most of what a small request
    # waits for on a busy database machine (bench/README.md).
    memberships = Membership.objects.filter(user_id=OuterRef("user_id")).order_by().values("user_id")
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=token_hash(secret), revoked_at__isnull=True, user__is_active=True)
        .annotate(
            member_of=Subquery(
                memberships.annotate(ids=ArrayAgg("household_id", order_by="household_id")).values("ids")
            ),
            member_as=Subquery(memberships.annotate(roles=ArrayAgg("role", order_by="household_id")).values("roles")),
        )
        .first()
    )
    if token is None:
        return None
    remember_household_roles(token.user, dict(zip(token.member_of or [], token.member_as or [], strict=True)))
    now = timezone.now()
    # Record use at most once a minute so authentication stays a read on the hot path.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
