"""Rules API: CRUD on /api/v1/rules/ and POST /api/v1/rules/apply/ (optionally a dry run)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from financetracker.authenticated import AuthenticatedRequest
from financetracker.core.api.fields import BoundedJSONField, HouseholdScopedRelatedField
from financetracker.core.api.permissions import ensure_can_write
from financetracker.core.api.strict import StrictSerializer
from financetracker.core.api.viewsets import HouseholdScopedViewSet, bound_instance
from ledger import rules as rules_engine
from ledger.api.serializers import HouseholdOwnedMeta, HouseholdOwnedSerializer
from ledger.models import Category, Household, Rule, Tag, Transaction
from ledger.models.rules import RuleMatch


class RuleSerializer(HouseholdOwnedSerializer):
    match = serializers.ChoiceField(choices=RuleMatch.choices, default=RuleMatch.ALL)
    conditions = BoundedJSONField()
    set_category = HouseholdScopedRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    add_tags = HouseholdScopedRelatedField(queryset=Tag.objects.all(), many=True, required=False)

    class Meta(HouseholdOwnedMeta):
        model = Rule
        fields = ["id", *rules_engine.RULE_EDITABLE_FIELDS.api_fields, "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class RulesApplySerializer(StrictSerializer):
    household = HouseholdScopedRelatedField(queryset=Household.objects.all())
    dry_run = serializers.BooleanField(default=False)
    transactions = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=10000)


class RuleViewSet(HouseholdScopedViewSet):
    model = Rule
    serializer_class = RuleSerializer
    filterset_fields = ["household", "is_active"]
    ordering_fields = ["position", "name", "id"]
    ordering = ["position", "id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related("add_tags")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = self.create_through(serializer, rules_engine.rule_create)

    def perform_update(self, serializer: serializers.BaseSerializer[Rule]) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = rules_engine.rule_update(rule=bound_instance(serializer), **data)

    def perform_destroy(self, instance: Rule) -> None:
        rules_engine.rule_delete(rule=instance)

    @extend_schema(request=RulesApplySerializer, responses={200: {"type": "object"}})
    @action(detail=False, methods=["post"])
    def apply(self, request: AuthenticatedRequest) -> Response:
        """Run the household's rules over its transactions (or the ones listed); a dry run changes nothing."""
        payload = RulesApplySerializer(data=request.data, context={"request": request})
        payload.is_valid(raise_exception=True)
        household: Household = payload.validated_data["household"]
        ensure_can_write(request.user, household.pk)
        queryset = None
        if "transactions" in payload.validated_data:
            ids = payload.validated_data["transactions"]
            queryset = Transaction.objects.restrict(request.user, "change").filter(household=household, pk__in=ids)
            if queryset.count() != len(set(ids)):
                raise NotFound("Some of these transactions do not exist.")
        result = rules_engine.rules_apply(
            household=household,
            queryset=queryset,
            user=request.user,
            dry_run=payload.validated_data["dry_run"],
        )
        return Response(
            {
                "dry_run": payload.validated_data["dry_run"],
                "changed": result.changed,
                "changes": [
                    {
                        "transaction": c.transaction_id,
                        "rule": c.rule_id,
                        "field": c.field,
                        "before": c.before,
                        "after": c.after,
                    }
                    for c in result.changes[:1000]
                ],
            }
        )
