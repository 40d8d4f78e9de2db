"""Creating, changing and deleting rules: targets of the rule's own household, conditions validated, audited."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from ledger.audit import audit_created, audit_deleted, audit_updated, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import Category, Household, Rule, RuleTag, Tag
from ledger.models.rules import RuleMatch
from ledger.rules.validation import validate_conditions

# What a person may set on a rule, in form order (ledger/editable_fields.py); its tags are rows of their own.
RULE_EDITABLE_FIELDS = EditableFields(
    Rule,
    ("name", "position", "is_active", "match", "conditions", "set_category", "set_payee", "add_tags"),
    lines=("add_tags",),
)


def _validate_rule_targets(household: Household, category: Category | None, tags: Iterable[Tag]) -> list[Tag]:
    if category is not None and category.household_id != household.pk:
        raise ValidationError({"set_category": ["Choose a category of the rule's household."]})
    tag_list = list({tag.pk: tag for tag in tags}.values())
    if any(tag.household_id != household.pk for tag in tag_list):
        raise ValidationError({"add_tags": ["Choose tags of the rule's household."]})
    return tag_list


@transaction.atomic
def rule_create(
    *,
    household: Household,
    name: str,
    conditions: list[dict[str, Any]],
    match: str = RuleMatch.ALL,
    position: int = 0,
    is_active: bool = True,
    set_category: Category | None = None,
    set_payee: str = "",
    add_tags: Iterable[Tag] = (),
) -> Rule:
    tags = _validate_rule_targets(household, set_category, add_tags)
    if set_category is None and not set_payee and not tags:
        raise ValidationError({"non_field_errors": ["A rule needs an action: set a category, a payee or tags."]})
    rule = Rule(
        household=household,
        name=name.strip(),
        position=position,
        is_active=is_active,
        match=match,
        conditions=validate_conditions(conditions, household_id=household.pk),
        set_category=set_category,
        set_payee=set_payee.strip(),
    )
    rule.full_clean(exclude=["household", "set_category"])
    _refuse_duplicate_name(rule)
    rule.save()
    RuleTag.objects.bulk_create(RuleTag(household=household, rule=rule, tag=tag) for tag in tags)
    audit_created(rule)
    return rule


def _refuse_duplicate_name(rule: Rule) -> None:
    # full_clean leaves out `household`, and with it the (household, name) constraint: a duplicate reached the
    # database and came back as a bare 409 naming the constraint.
    if Rule.objects.filter(household_id=rule.household_id, name=rule.name).exclude(pk=rule.pk).exists():
        raise ValidationError({"name": ["A rule with this name already exists in the household."]})


@transaction.atomic
def rule_update(*, rule: Rule, add_tags: Iterable[Tag] | None = None, **fields: Any) -> Rule:
    RULE_EDITABLE_FIELDS.reject_unknown(fields)
    household = rule.household
    before = snapshot(rule)
    if "conditions" in fields:
        fields["conditions"] = validate_conditions(fields["conditions"], household_id=household.pk)
    for name, value in fields.items():
        setattr(rule, name, value)
    tags = _validate_rule_targets(household, rule.set_category, add_tags or [])
    rule.full_clean(exclude=["household", "set_category"])
    _refuse_duplicate_name(rule)
    rule.save()
    if add_tags is not None:
        RuleTag.objects.filter(household=household, rule=rule).delete()
        RuleTag.objects.bulk_create(RuleTag(household=household, rule=rule, tag=tag) for tag in tags)
    audit_updated(rule, before=before)
    return rule


@transaction.atomic
def rule_delete(*, rule: Rule) -> None:
    audit_deleted(rule)
    rule.delete()
