"""Signing up creates a personal household owned by the new person."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from ledger.models import User


@receiver(post_save, sender=User, dispatch_uid="ledger.personal_household")
def create_personal_household(sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        from ledger.services.households import household_create_personal

        household_create_personal(user=instance)
