"""Roles: viewers read, editors and owners write, owners manage the household. Outsiders see nothing (404)."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from ledger.models import Role
from ledger.models.tenancy import WRITE_ROLES
from ledger.selectors import household_roles


def role_in(user: Any, household_id: int | None) -> str | None:
    if household_id is None:
        return None
    return household_roles(user).get(household_id)


def ensure_can_write(user: Any, household_id: int) -> None:
    if role_in(user, household_id) not in WRITE_ROLES:
        raise PermissionDenied("Your role in this household is read-only.")


def ensure_owner(user: Any, household_id: int) -> None:
    if role_in(user, household_id) != Role.OWNER:
        raise PermissionDenied("Only the household's owners can do this.")


class HouseholdRolePermission(permissions.IsAuthenticated):
    """Object writes need an editor or owner role in the object's household."""

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return role_in(request.user, view.household_id_of(obj)) in WRITE_ROLES
