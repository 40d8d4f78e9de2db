"""A household's active rules, in order, each compiled to Python tests of a transaction: what "a rule matches"
means, for the Python evaluator, the SQL evaluator's regex conditions and the import's category suggestions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from ledger.models import Rule, RuleTag
from ledger.models.rules import RuleMatch
from ledger.rules.validation import TEXT_FIELDS, compile_regex

logger = logging.getLogger(__name__)


class Matchable(Protocol):
    """What conditions read: a Transaction, or a row about to become one (an import's suggestions)."""

    @property
    def payee(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def account_id(self) -> int: ...


@dataclass(frozen=True)
class CompiledRule:
    rule: Rule
    tag_ids: tuple[int, ...]
    tests: tuple[Any, ...]

    def matches(self, tx: Matchable) -> bool:
        results = (test(tx) for test in self.tests)
        return all(results) if self.rule.match == RuleMatch.ALL else any(results)


def text_test(name: str, operator: str, value: str) -> Any:
    if operator == "contains":
        needle = value.casefold()
        return lambda tx: needle in (getattr(tx, name) or "").casefold()
    if operator == "equals":
        target = value.strip().casefold()
        return lambda tx: (getattr(tx, name) or "").strip().casefold() == target
    matcher = regex_matcher(value)
    return lambda tx: matcher(getattr(tx, name) or "")


def regex_matcher(pattern: str) -> Any:
    """A text → bool test for a stored pattern. One RE2 refuses (saved before RE2 was the engine) never matches,
    rather than failing every run of the household's rules."""
    try:
        compiled = compile_regex(pattern)
    except ValueError as error:
        logger.warning("rule regex %r is not valid RE2 and never matches: %s", pattern, error)
        return lambda text: False
    return lambda text: compiled.search(text) is not None


def _compile(condition: dict[str, Any]) -> Any:
    name, operator, value = condition["field"], condition["operator"], condition["value"]
    if name in TEXT_FIELDS:
        return text_test(name, operator, value)
    if name == "amount":
        if operator == "between":
            low, high = Decimal(value[0]), Decimal(value[1])
            return lambda tx: low <= tx.amount <= high
        bound = Decimal(value)
        return (lambda tx: tx.amount >= bound) if operator == "gte" else (lambda tx: tx.amount <= bound)
    account_id = int(value)
    return lambda tx: tx.account_id == account_id


def active_rules(household_id: int) -> list[CompiledRule]:
    rules = list(Rule.objects.filter(household_id=household_id, is_active=True).order_by("position", "id"))
    tag_ids: dict[int, list[int]] = {}
    for rule_id, tag_id in RuleTag.objects.filter(household_id=household_id, rule__in=rules).values_list(
        "rule_id", "tag_id"
    ):
        tag_ids.setdefault(rule_id, []).append(tag_id)
    return [
        CompiledRule(
            rule=rule,
            tag_ids=tuple(sorted(tag_ids.get(rule.pk, []))),
            tests=tuple(_compile(c) for c in rule.conditions),
        )
        for rule in rules
    ]
