"""Roles: viewers read, editors and owners write, owners manage the household. Outsiders see nothing (404).

Every answer comes from `financetracker.core.tenancy.may` — the same policy `restrict(user, action)` applies."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import Model
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from financetracker.core.tenancy import HOUSEHOLD_MODEL, Action, may

# The action an HTTP method performs on the object it names (a POST to a detail route is an action on it).
METHOD_ACTIONS: dict[str, Action] = {"PUT": "change", "PATCH": "change", "POST": "change", "DELETE": "delete"}


def ensure_may(user: Any, action: Action, household_id: int, model: type[Model] | None = None) -> None:
    if not may(user, action, household_id, model):
        raise PermissionDenied(denied_message(user, household_id))


def denied_message(user: Any, household_id: int | None) -> str:
    if may(user, "change", household_id):
        return "Only the household's owners can do this."
    return "Your role in this household is read-only."


def ensure_can_write(user: Any, household_id: int) -> None:
    ensure_may(user, "add", household_id)


def ensure_owner(user: Any, household_id: int) -> None:
    ensure_may(user, "change", household_id, apps.get_model(HOUSEHOLD_MODEL))


class HouseholdRolePermission(permissions.IsAuthenticated):
    """Object writes need the action's role in the object's household (the view's model's policy)."""

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        household_id = view.household_id_of(obj)
        action = METHOD_ACTIONS.get(request.method or "", "change")
        if may(request.user, action, household_id, getattr(view, "model", None)):
            return True
        self.message = denied_message(request.user, household_id)
        return False
