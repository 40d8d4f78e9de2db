"""Rules run on an import's new transactions (`rules_apply_to_transactions_sql`): a snapshot of the rows, then
one UPDATE per rule translated to SQL (ILIKE, ranges); regex conditions are matched by RE2 over the snapshot
and enter the SQL as id lists, so the cost does not grow with rows x rules round trips."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from ledger.models.rules import RuleMatch
from ledger.rules.matching import CompiledRule, active_rules, regex_matcher
from ledger.rules.validation import TEXT_FIELDS


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_RegexMatches = dict[tuple[str, str], list[int]]


def _regex_matches(cursor: Any, rules: Sequence[CompiledRule]) -> _RegexMatches:
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
        matcher = regex_matcher(pattern)
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
    rules = active_rules(household_id)
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
