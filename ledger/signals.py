"""Signing up creates a personal household owned by the new person; failed logins are counted."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from ledger.models import User


@receiver(post_save, sender=User, dispatch_uid="ledger.personal_household")
def create_personal_household(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if created and not raw:
        from ledger.services.households import household_create_personal

        household_create_personal(user=instance)


@receiver(user_login_failed, dispatch_uid="ledger.count_login_failures")
def count_login_failure(sender: object, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # By channel only: never the username (a label per guessed name would be unbounded and personal).
    from ledger.metrics import login_failures

    path = getattr(request, "path", "") or ""
    channel = "api" if path.startswith("/api/") else "admin" if path.startswith("/admin/") else "other"
    login_failures.labels(channel=channel).inc()
