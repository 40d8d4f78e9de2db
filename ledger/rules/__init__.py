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

Two paths, one module each: `rules_apply` (python_evaluator: on demand, over a queryset, every change
reported, with a dry run) and `rules_apply_to_transactions_sql` (sql_evaluator: an import's new rows,
set-based). Both run the rules `matching.active_rules` compiles; conditions are checked by `validation`,
and rules are created, changed and deleted by `services`.
"""

from __future__ import annotations

from ledger.rules.matching import CompiledRule, active_rules
from ledger.rules.python_evaluator import RuleChange, RulesApplyResult, rules_apply
from ledger.rules.services import RULE_EDITABLE_FIELDS, rule_create, rule_delete, rule_update
from ledger.rules.sql_evaluator import rules_apply_to_transactions_sql
from ledger.rules.validation import (
    AMOUNT_OPERATORS,
    MAX_CONDITIONS,
    MAX_PATTERN_LENGTH,
    TEXT_FIELDS,
    TEXT_OPERATORS,
    compile_regex,
    validate_conditions,
    validate_regex,
)

__all__ = [
    "AMOUNT_OPERATORS",
    "MAX_CONDITIONS",
    "MAX_PATTERN_LENGTH",
    "RULE_EDITABLE_FIELDS",
    "TEXT_FIELDS",
    "TEXT_OPERATORS",
    "CompiledRule",
    "RuleChange",
    "RulesApplyResult",
    "active_rules",
    "compile_regex",
    "rule_create",
    "rule_delete",
    "rule_update",
    "rules_apply",
    "rules_apply_to_transactions_sql",
    "validate_conditions",
    "validate_regex",
]
