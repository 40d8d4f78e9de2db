"""What a rule's conditions may be: fields, operators, bounds, and patterns RE2 accepts (the engine both
evaluators run, validation included). validate_conditions gives the canonical form the evaluators read."""

from __future__ import annotations

from typing import Any

import re2
from django.core.exceptions import ValidationError

from financetracker.core.money import parse_amount
from ledger.models import Account

TEXT_FIELDS = ("payee", "description")
TEXT_OPERATORS = ("contains", "equals", "regex")
AMOUNT_OPERATORS = ("between", "gte", "lte")
MAX_PATTERN_LENGTH = 200
MAX_CONDITIONS = 20
# RE2 compiles a pattern to an automaton within this much memory, or refuses it: (a{100}){100} is refused.
_RE2_MAX_MEMORY = 1 << 20


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
        name, operator = condition.get("field"), condition.get("operator")
        value: Any = condition.get("value")  # any JSON value: each field's branch checks it
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
            if operator != "between" and isinstance(value, list):
                # A list here kept its first amount and dropped the rest (an empty one was a 500).
                raise _condition_error(index, f"{operator} takes one amount, not a list.")
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
                # Whole numbers only: int() read 12.7 as account 12 (and True as account 1).
                if isinstance(value, bool | float):
                    raise TypeError
                account_id = int(value)  # anything but an int or digits is caught below
            except (TypeError, ValueError):
                raise _condition_error(index, "give an account id.") from None
            if not Account.objects.filter(pk=account_id, household_id=household_id).exists():
                raise _condition_error(index, "choose an account of the rule's household.")
            cleaned.append({"field": "account", "operator": "is", "value": account_id})
        else:
            raise _condition_error(index, "field is one of payee, description, amount, account.")
    return cleaned
