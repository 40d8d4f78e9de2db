"""The one restricting base every API view in every app inherits: no endpoint can forget scoping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from django.apps import apps
from django.db.models import Model, QuerySet
from rest_framework import serializers, viewsets
from rest_framework.request import Request

from financetracker.authenticated import AuthenticatedRequest
from financetracker.core.api.permissions import HouseholdRolePermission, ensure_may
from financetracker.core.tenancy import HOUSEHOLD_MODEL, WRITE_ROLES, HouseholdQuerySet, household_roles

_M = TypeVar("_M", bound=Model)
_R = TypeVar("_R")


def bound_instance(serializer: serializers.BaseSerializer[_M]) -> _M:
    """The row an update's serializer is bound to (DRF's UpdateModelMixin binds `get_object()`)."""
    if serializer.instance is None:
        raise TypeError("An update's serializer is bound to the row it updates.")
    return serializer.instance


class HouseholdScopedViewSet(viewsets.ModelViewSet):
    """Lists and object lookups start from `Model.objects.restrict(user, "view")`; another household's row is
    a 404 (and a member whose role does not allow a write gets a 403, from HouseholdRolePermission).

    Subclasses set `model` and may override `scope_queryset` to add select_related/prefetch_related.
    """

    model: ClassVar[type[Model]]
    request: AuthenticatedRequest  # HouseholdRolePermission refuses anonymous requests
    permission_classes = [HouseholdRolePermission]
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        rows = self.model._default_manager.all()
        if not isinstance(rows, HouseholdQuerySet):
            raise TypeError(f"{self.model.__name__} is not household-owned: it cannot be scoped.")
        return self.scope_queryset(rows.restrict(self.request.user, "view"))

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset

    def household_id_of(self, obj: Any) -> int:
        return int(obj.household_id)

    def household_for_create(self, request: Request, household: Any | None) -> Any:
        """The household (a ledger.Household) a new row goes into: the one named, else the person's only
        writable one."""
        if household is None:
            writable = [pk for pk, role in household_roles(request.user).items() if role in WRITE_ROLES]
            if len(writable) != 1:
                raise serializers.ValidationError(
                    {"household": ["This field is required when you can write to several households."]}
                )
            household = apps.get_model(HOUSEHOLD_MODEL)._default_manager.get(pk=writable[0])
        ensure_may(request.user, "add", household.pk, self.model)
        return household

    def create_through(self, serializer: serializers.BaseSerializer, service: Callable[..., _R]) -> _R:
        """Call a create service (`household=`, then the validated fields) in the household the row goes into."""
        data = dict(serializer.validated_data)
        household = self.household_for_create(self.request, data.pop("household", None))
        return service(household=household, **data)
