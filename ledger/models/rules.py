"""Categorisation rules: ordered conditions on a transaction → actions. The engine lives in ledger.rules."""

from __future__ import annotations

from django.db import models

from financetracker.core.tenancy import HouseholdOwned
from ledger.models.accounts_and_transactions import Category, Tag


class RuleMatch(models.TextChoices):
    ALL = "all", "All conditions"
    ANY = "any", "Any condition"


class Rule(HouseholdOwned):
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0, help_text="Rules run in ascending position.")
    is_active = models.BooleanField(default=True)
    match = models.CharField(max_length=3, choices=RuleMatch.choices, default=RuleMatch.ALL)
    # [{"field": "payee"|"description"|"amount"|"account", "operator": "contains"|"equals"|"regex"|
    #   "between"|"gte"|"lte"|"is", "value": ...}] — validated by the rules service.
    conditions = models.JSONField(default=list)
    set_category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    set_payee = models.CharField(max_length=200, blank=True)
    add_tags = models.ManyToManyField(Tag, through="RuleTag", blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["household", "name"], name="rule_household_name_unique"),
            models.UniqueConstraint(fields=["household", "id"], name="rule_household_id_unique"),
        ]
        indexes = [models.Index(fields=["household", "position"], name="rule_household_position_idx")]

    def __str__(self) -> str:
        return self.name


class RuleTag(HouseholdOwned):
    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="tag_links")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["household", "rule", "tag"], name="ruletag_household_rule_tag_unique")
        ]
