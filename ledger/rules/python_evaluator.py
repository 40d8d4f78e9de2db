"""Rules run on demand (`rules_apply`): evaluated in Python over a queryset in chunks, every change reported,
with a dry run that writes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet

from ledger.models import Household, Split, Transaction, TransactionStatus, TransactionTag, User
from ledger.rules.matching import CompiledRule, active_rules


@dataclass(frozen=True)
class RuleChange:
    transaction_id: int
    rule_id: int
    field: str
    before: Any
    after: Any


@dataclass
class RulesApplyResult:
    changed: int = 0
    changes: list[RuleChange] = field(default_factory=list)


def rules_apply(
    *,
    household: Household,
    queryset: QuerySet[Transaction] | None = None,
    user: User | None = None,
    dry_run: bool = False,
    chunk_size: int = 2000,
) -> RulesApplyResult:
    """Run the household's rules over its transactions (or a subset) and report every change.

    `changed` counts transactions changed; a dry run reports the same changes and writes nothing.
    """
    rules = active_rules(household.pk)
    result = RulesApplyResult()
    if not rules:
        return result
    base = (
        Transaction.objects.filter(household_id=household.pk)
        if queryset is None
        else queryset.filter(household_id=household.pk)
    )
    has_splits = Exists(Split.objects.filter(household_id=household.pk, transaction_id=OuterRef("pk")))
    base = base.exclude(status=TransactionStatus.RECONCILED).annotate(rules_has_splits=has_splits).order_by("id")
    with transaction.atomic():
        last_id = 0
        while True:
            chunk = list(base.filter(id__gt=last_id)[:chunk_size])
            if not chunk:
                break
            last_id = chunk[-1].pk
            existing_tags: dict[int, set[int]] = {}
            for tx_id, tag_id in TransactionTag.objects.filter(
                household_id=household.pk, transaction_id__in=[tx.pk for tx in chunk]
            ).values_list("transaction_id", "tag_id"):
                existing_tags.setdefault(tx_id, set()).add(tag_id)
            updated: list[Transaction] = []
            new_links: list[TransactionTag] = []
            for tx in chunk:
                changes = _changes_for(tx, rules, existing_tags.get(tx.pk, set()))
                if not changes:
                    continue
                result.changed += 1
                result.changes.extend(changes)
                for change in changes:
                    if change.field == "category":
                        tx.category_id = change.after
                    elif change.field == "payee":
                        tx.payee = change.after
                    else:
                        new_links.append(
                            TransactionTag(household_id=household.pk, transaction_id=tx.pk, tag_id=change.after)
                        )
                tx.updated_by = user
                updated.append(tx)
            if not dry_run:
                Transaction.objects.bulk_update(updated, ["category", "payee", "updated_by"], batch_size=1000)
                TransactionTag.objects.bulk_create(new_links, ignore_conflicts=True, batch_size=1000)
    return result


def _changes_for(tx: Transaction, rules: Sequence[CompiledRule], tag_ids: set[int]) -> list[RuleChange]:
    changes: list[RuleChange] = []
    category_done = payee_done = False
    added: set[int] = set()
    # Split transactions keep their per-line categories, and transfers are not spending.
    category_allowed = tx.transfer_id is None and not getattr(tx, "rules_has_splits", False)
    for compiled in rules:
        if not compiled.matches(tx):
            continue
        rule = compiled.rule
        if not category_done and rule.set_category_id is not None:
            category_done = True
            if category_allowed and tx.category_id != rule.set_category_id:
                changes.append(RuleChange(tx.pk, rule.pk, "category", tx.category_id, rule.set_category_id))
        if not payee_done and rule.set_payee:
            payee_done = True
            if tx.payee != rule.set_payee:
                changes.append(RuleChange(tx.pk, rule.pk, "payee", tx.payee, rule.set_payee))
        for tag_id in compiled.tag_ids:
            if tag_id not in tag_ids and tag_id not in added:
                added.add(tag_id)
                changes.append(RuleChange(tx.pk, rule.pk, "tag", None, tag_id))
    return changes
