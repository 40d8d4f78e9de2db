"""Audit history API: GET /api/v1/audit/ (filter by object_type and object_id), read-only.

History outlives the row, so it is looked up by type and id rather than through the row itself;
entries are scoped with `AuditEntry.objects.restrict(user, "view")` like every other household-owned read.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from rest_framework import serializers, viewsets

from financetracker.core.api.permissions import HouseholdRolePermission
from ledger.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = AuditEntry
        fields = [
            "id", "at", "action", "object_type", "object_id", "object_repr", "household", "actor", "request_id",
            "changes",
        ]  # fmt: skip
        read_only_fields = fields

    def get_actor(self, entry: AuditEntry) -> str | None:
        return entry.actor.get_username() if entry.actor is not None else None


def audit_entries_for(queryset: QuerySet[AuditEntry], *, object_type: str, object_id: int) -> QuerySet[AuditEntry]:
    return queryset.filter(object_type=object_type, object_id=object_id).select_related("actor")


class AuditEntryFilter(django_filters.FilterSet):
    # Plain numbers, not model choices: filtering by another household's id must not reveal it exists.
    household = django_filters.NumberFilter(field_name="household_id")
    object_type = django_filters.CharFilter()
    object_id = django_filters.NumberFilter()
    action = django_filters.CharFilter()

    class Meta:
        model = AuditEntry
        fields = ["household", "object_type", "object_id", "action"]


class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AuditEntrySerializer
    permission_classes = [HouseholdRolePermission]
    filterset_class = AuditEntryFilter
    ordering = ["-id"]

    def get_queryset(self) -> QuerySet[Any]:
        return AuditEntry.objects.restrict(self.request.user, "view").select_related("actor")
