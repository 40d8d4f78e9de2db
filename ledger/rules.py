"""The rules engine: ordered conditions on payee/description/amount/account → set category, set payee, add tags.

Semantics (the same on both paths):
- Rules run in ascending `position` (then id); only active rules run.
- Conditions are always evaluated against the transaction as it was before any rule ran.
- For category and payee the first matching rule that sets the field wins; tags from every matching rule
  are added (the model calls them `add_tags`).
- Reconciled transactions are never changed.
- Text conditions are case-insensitive: contains, equals (after trimming) and regex. Amount conditions
  compare the signed amount (negative is money out): between [low, high] inclusive, gte, lte.
- Regex conditions use RE2's syntax and engine (google-re2) on both paths — validation included — so a
  pattern runs in time linear in the text: no pattern can backtrack catastrophically (`^(a|aa)*c$`).
  PostgreSQL's own regex engine never sees a person's pattern.

Two paths: `rules_apply` (on demand: evaluates in Python over a queryset and reports each change, with a
dry run), and `rules_apply_to_transactions_sql` (imports: a snapshot of the new rows, then one UPDATE per rule
translated to SQL — ILIKE, ranges; regex conditions are matched by RE2 over the snapshot and enter the SQL as
id lists — so the cost does not grow with rows x rules round trips).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import re2
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, QuerySet

from ledger.audit import audit_created, audit_deleted, audit_updated, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import (
    Account,
    Category,
    Household,
    Rule,
    RuleTag,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    TransactionTag,
    User,
)
from ledger.models.rules import RuleMatch
from ledger.money import parse_amount

TEXT_FIELDS = ("payee", "description")
TEXT_OPERATORS = ("contains", "equals", "regex")
AMOUNT_OPERATORS = ("between", "gte", "lte")
MAX_PATTERN_LENGTH = 200
MAX_CONDITIONS = 20
# RE2 compiles a pattern to an automaton within this much memory, or refuses it: (a{100}){100} is refused.
_RE2_MAX_MEMORY = 1 << 20

logger = logging.getLogger(__name__)


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


# --- validation -------------------------------------------------------------------------------------


def _condition_error(index: int, message: str) -> ValidationError:
    return ValidationError({"conditions": [f"Condition {index + 1}: {message}"]})


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    # `.` matches a newline too, as in PostgreSQL's regexes (imports' descriptions may hold several lines).
    options.dot_nl = True
    options.max_mem = _RE2_MAX_MEMORY
    options.log_errors = False
    return options


def compile_regex(pattern: str) -> re2._Regexp:
    """The pattern compiled by RE2, the engine that runs it on both paths; ValueError with RE2's reason."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise ValueError(f"a pattern may be at most {MAX_PATTERN_LENGTH} characters")
    try:
        return re2.compile(pattern, _re2_options())
    except re2.error as error:
        reason = error.args[0] if error.args else ""
        text = reason.decode(errors="replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(
            f"not a regular expression RE2 accepts ({text}); lookarounds and backreferences are not supported"
        ) from None


def validate_regex(pattern: str) -> None:
    compile_regex(pattern)


def validate_conditions(conditions: Any, *, household_id: int) -> list[dict[str, Any]]:
    """The conditions in canonical form (amounts as strings, account ids as ints). Raises ValidationError."""
    if not isinstance(conditions, list) or not conditions:
        raise ValidationError({"conditions": ["Give at least one condition."]})
    if len(conditions) > MAX_CONDITIONS:
        raise ValidationError({"conditions": [f"At most {MAX_CONDITIONS} conditions."]})
    cleaned: list[dict[str, Any]] = []
    for index, condition in enumerate(conditions):
        if not isinstance(condition, dict):
            raise _condition_error(index, "give an object with field, operator and value.")
        name, operator, value = condition.get("field"), condition.get("operator"), condition.get("value")
        if name in TEXT_FIELDS:
            if operator not in TEXT_OPERATORS:
                raise _condition_error(index, f"{name} takes one of {', '.join(TEXT_OPERATORS)}.")
            if not isinstance(value, str) or not value.strip():
                raise _condition_error(index, "give some text.")
            if len(value) > MAX_PATTERN_LENGTH:
                raise _condition_error(index, f"at most {MAX_PATTERN_LENGTH} characters.")
            if operator == "regex":
                try:
                    validate_regex(value)
                except ValueError as error:
                    raise _condition_error(index, str(error)) from None
            cleaned.append({"field": name, "operator": operator, "value": value})
        elif name == "amount":
            if operator not in AMOUNT_OPERATORS:
                raise _condition_error(index, f"amount takes one of {', '.join(AMOUNT_OPERATORS)}.")
            if operator == "between" and (not isinstance(value, list) or len(value) != 2):
                raise _condition_error(index, "between takes [low, high].")
            values: list[Any] = value if isinstance(value, list) else [value]
            try:
                amounts = [parse_amount(item) for item in values]
            except ValidationError as error:
                raise _condition_error(index, error.messages[0]) from None
            if operator == "between" and amounts[0] > amounts[1]:
                raise _condition_error(index, "the low end is above the high end.")
            text = [f"{amount:f}" for amount in amounts]
            cleaned.append(
                {"field": "amount", "operator": operator, "value": text if operator == "between" else text[0]}
            )
        elif name == "account":
            if operator != "is":
                raise _condition_error(index, "account takes the operator is.")
            try:
                account_id = int(value)  # type: ignore[arg-type]  # anything else is caught below
            except (TypeError, ValueError):
                raise _condition_error(index, "give an account id.") from None
            if not Account.objects.filter(pk=account_id, household_id=household_id).exists():
                raise _condition_error(index, "choose an account of the rule's household.")
            cleaned.append({"field": "account", "operator": "is", "value": account_id})
        else:
            raise _condition_error(index, "field is one of payee, description, amount, account.")
    return cleaned


# --- CRUD services ----------------------------------------------------------------------------------


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
    rule.save()
    RuleTag.objects.bulk_create(RuleTag(household=household, rule=rule, tag=tag) for tag in tags)
    audit_created(rule)
    return rule


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


# --- evaluation in Python (on demand) ---------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledRule:
    rule: Rule
    tag_ids: tuple[int, ...]
    tests: tuple[Any, ...]

    def matches(self, tx: Transaction) -> bool:
        results = (test(tx) for test in self.tests)
        return all(results) if self.rule.match == RuleMatch.ALL else any(results)


def _text_test(name: str, operator: str, value: str) -> Any:
    if operator == "contains":
        needle = value.casefold()
        return lambda tx: needle in (getattr(tx, name) or "").casefold()
    if operator == "equals":
        target = value.strip().casefold()
        return lambda tx: (getattr(tx, name) or "").strip().casefold() == target
    matcher = _regex_matcher(value)
    return lambda tx: matcher(getattr(tx, name) or "")


def _regex_matcher(pattern: str) -> Any:
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
        return _text_test(name, operator, value)
    if name == "amount":
        if operator == "between":
            low, high = Decimal(value[0]), Decimal(value[1])
            return lambda tx: low <= tx.amount <= high
        bound = Decimal(value)
        return (lambda tx: tx.amount >= bound) if operator == "gte" else (lambda tx: tx.amount <= bound)
    account_id = int(value)
    return lambda tx: tx.account_id == account_id


def _active_rules(household_id: int) -> list[_CompiledRule]:
    rules = list(Rule.objects.filter(household_id=household_id, is_active=True).order_by("position", "id"))
    tag_ids: dict[int, list[int]] = {}
    for rule_id, tag_id in RuleTag.objects.filter(household_id=household_id, rule__in=rules).values_list(
        "rule_id", "tag_id"
    ):
        tag_ids.setdefault(rule_id, []).append(tag_id)
    return [
        _CompiledRule(
            rule=rule,
            tag_ids=tuple(sorted(tag_ids.get(rule.pk, []))),
            tests=tuple(_compile(c) for c in rule.conditions),
        )
        for rule in rules
    ]


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
    rules = _active_rules(household.pk)
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


def _changes_for(tx: Transaction, rules: Sequence[_CompiledRule], tag_ids: set[int]) -> list[RuleChange]:
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


# --- evaluation in SQL (imports) --------------------------------------------------------------------


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_RegexMatches = dict[tuple[str, str], list[int]]


def _regex_matches(cursor: Any, rules: Sequence[_CompiledRule]) -> _RegexMatches:
    """For each (field, pattern) of the rules' regex conditions, the ids of the snapshot rows RE2 matches."""
    wanted = {
        (condition["field"], condition["value"])
        for compiled in rules
        for condition in compiled.rule.conditions
        if condition["field"] in TEXT_FIELDS and condition["operator"] == "regex"
    }
    if not wanted:
        return {}
    cursor.execute("SELECT id, payee, description FROM rules_input")
    rows = cursor.fetchall()
    matches: _RegexMatches = {}
    for name, pattern in wanted:
        matcher = _regex_matcher(pattern)
        column = TEXT_FIELDS.index(name) + 1
        matches[(name, pattern)] = [row[0] for row in rows if matcher(row[column] or "")]
    return matches


def _condition_sql(condition: dict[str, Any], regex_matches: _RegexMatches) -> tuple[str, list[Any]]:
    name, operator, value = condition["field"], condition["operator"], condition["value"]
    if name in TEXT_FIELDS:
        column = f"i.{name}"
        if operator == "contains":
            return f"{column} ILIKE %s", [f"%{_like_escape(value)}%"]
        if operator == "equals":
            return f"lower(btrim({column})) = lower(btrim(%s))", [value]
        # Matched by RE2 in _regex_matches: PostgreSQL's engine would read the pattern differently (\b).
        return "i.id = ANY(%s::bigint[])", [regex_matches[(name, value)]]
    if name == "amount":
        if operator == "between":
            return "i.amount BETWEEN %s AND %s", [Decimal(value[0]), Decimal(value[1])]
        return ("i.amount >= %s" if operator == "gte" else "i.amount <= %s"), [Decimal(value)]
    return "i.account_id = %s", [int(value)]


def rules_apply_to_transactions_sql(*, household_id: int, transaction_ids_sql: str, params: Sequence[Any]) -> int:
    """Apply the household's rules to a set of transactions given as SQL, set-based. Returns rules run.

    Conditions read a snapshot of the rows taken before any rule runs; rules are applied from the last to
    the first so that, for category and payee, the first matching rule's value is the one left standing.
    """
    rules = _active_rules(household_id)
    if not rules:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS rules_input")
        # Only constant SQL and condition fragments built by _condition_sql are interpolated; values are parameters.
        cursor.execute(
            "CREATE TEMP TABLE rules_input ON COMMIT DROP AS "  # noqa: S608
            "SELECT t.id, t.payee, t.description, t.amount, t.account_id, "
            "(t.transfer_id IS NULL AND NOT EXISTS (SELECT 1 FROM ledger_split s WHERE s.household_id = t.household_id "
            "AND s.transaction_id = t.id)) AS category_allowed "
            f"FROM ledger_transaction t WHERE t.household_id = %s AND t.status <> 'reconciled' AND t.id IN ({transaction_ids_sql})",
            [household_id, *params],
        )
        cursor.execute("CREATE INDEX ON rules_input (id)")
        cursor.execute("ANALYZE rules_input")
        regex_matches = _regex_matches(cursor, rules)
        for compiled in reversed(rules):
            rule = compiled.rule
            parts = [_condition_sql(condition, regex_matches) for condition in rule.conditions]
            joiner = " AND " if rule.match == RuleMatch.ALL else " OR "
            where = "(" + joiner.join(sql for sql, _params in parts) + ")"
            where_params = [param for _sql, condition_params in parts for param in condition_params]
            assignments: list[str] = []
            assignment_params: list[Any] = []
            if rule.set_payee:
                assignments.append("payee = %s")
                assignment_params.append(rule.set_payee)
            if rule.set_category_id is not None:
                assignments.append("category_id = CASE WHEN i.category_allowed THEN %s ELSE t.category_id END")
                assignment_params.append(rule.set_category_id)
            if assignments:
                cursor.execute(
                    f"UPDATE ledger_transaction t SET {', '.join(assignments)}, updated_at = now() "  # noqa: S608
                    f"FROM rules_input i WHERE t.id = i.id AND t.household_id = %s AND {where}",
                    [*assignment_params, household_id, *where_params],
                )
            if compiled.tag_ids:
                cursor.execute(
                    "INSERT INTO ledger_transactiontag (household_id, transaction_id, tag_id) "  # noqa: S608
                    f"SELECT %s, i.id, tag.id FROM rules_input i CROSS JOIN unnest(%s::bigint[]) AS tag(id) WHERE {where} "
                    "ON CONFLICT (household_id, transaction_id, tag_id) DO NOTHING",
                    [household_id, list(compiled.tag_ids), *where_params],
                )
        cursor.execute("DROP TABLE rules_input")
    return len(rules)
