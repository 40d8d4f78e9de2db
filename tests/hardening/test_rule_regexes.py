"""Rule regexes run by RE2 on both paths (on demand and on import commit): linear time, one syntax, one meaning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from ledger.models import Rule, Transaction
from ledger.rules import rule_create, rules_apply, validate_regex
from tests.factories import TransactionFactory
from uploads.models import ImportStatus

pytestmark = pytest.mark.django_db

REDOS_PATTERNS = ["^(a|aa)*c$", "(a+)+$", "(x+x+)+y"]
# Each pattern's worst case for a backtracking engine: 2^n paths over a long run of the repeated letter.
HOSTILE_TEXT = {"^(a|aa)*c$": "a" * 5000 + "b", "(a+)+$": "a" * 5000 + "!", "(x+x+)+y": "x" * 5000}
# Short enough that a backtracking engine would still finish: these check what the rule does, not how fast.
HOSTILE_PAYEE = {pattern: text[-24:] for pattern, text in HOSTILE_TEXT.items()}


def match_in_a_subprocess(pattern: str, text: str, *, within_seconds: float = 60.0) -> str:
    """The rules engine's own test of `pattern` on `text`, run apart so a backtracking engine (which holds the
    GIL for as long as it runs) can be stopped: "True"/"False", or "still running" when it had to be."""
    code = (
        "import django, sys; django.setup(); from types import SimpleNamespace; "
        "from ledger.rules.matching import text_test; "
        "print(text_test('payee', 'regex', sys.argv[1])(SimpleNamespace(payee=sys.argv[2])))"
    )
    # DEBUG: the subprocess needs no real SECRET_KEY to import the settings (only ledger.rules is used).
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "financetracker.settings", "DEBUG": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, pattern, text],
            capture_output=True,
            text=True,
            timeout=within_seconds,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            check=True,
        )
    except subprocess.TimeoutExpired:
        return "still running"
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("pattern", REDOS_PATTERNS)
def test_classic_redos_patterns_are_matched_in_linear_time(pattern):
    validate_regex(pattern)  # RE2 runs them safely, so they are not refused
    # A backtracking engine needs ~2^5000 steps here: it would never answer.
    assert match_in_a_subprocess(pattern, HOSTILE_TEXT[pattern]) == "False"


def payee_regex_rule(household, name: str, pattern: str, set_payee: str = "matched") -> Rule:
    """A rule that sets the payee of every row whose payee matches `pattern`."""
    return rule_create(
        household=household,
        name=name,
        conditions=[{"field": "payee", "operator": "regex", "value": pattern}],
        set_payee=set_payee,
    )


def payees(account) -> list[str]:
    return sorted(Transaction.objects.filter(account=account).values_list("payee", flat=True))


@pytest.mark.parametrize("pattern", REDOS_PATTERNS)
def test_a_redos_rule_applied_on_demand_finishes_and_does_not_match(household, account, pattern):
    payee_regex_rule(household, "Hostile", pattern)
    row = TransactionFactory(account=account, payee=HOSTILE_PAYEE[pattern])
    assert rules_apply(household=household).changed == 0
    row.refresh_from_db()
    assert row.payee != "matched"


def test_a_redos_rule_on_import_commit_finishes(household, account, import_bytes):
    payee_regex_rule(household, "Hostile", "^(a|aa)*c$")
    payee = "a" * 150 + "b"
    statement = import_bytes(account, f"Date,Payee,Amount\n2024-03-15,{payee},-2.80\n".encode(), commit=True)
    assert statement.status == ImportStatus.COMMITTED, statement.error
    assert Transaction.objects.get(account=account).payee == payee


@pytest.mark.parametrize("pattern", ["(?<=a)b", "(?!x)y", r"(\w)\1", "a{2000}", "(a{100}){100}"])
def test_patterns_re2_cannot_run_in_linear_time_are_refused_with_a_message(household, pattern):
    with pytest.raises(ValidationError) as refused:
        payee_regex_rule(household, "Bad", pattern, set_payee="x")
    assert "RE2" in refused.value.message_dict["conditions"][0]


def test_a_pattern_postgresql_would_reject_still_commits_imports(household, account, import_bytes):
    # Python's re and RE2 accept named groups; PostgreSQL's engine rejects them, so every commit used to fail.
    payee_regex_rule(household, "Trams", r"(?P<mode>tram|bus)\b", set_payee="Public transport")
    statement = import_bytes(
        account, b"Date,Payee,Amount\n2024-03-15,Tram 7,-2.80\n2024-03-15,Trampoline,-9\n", commit=True
    )
    assert statement.status == ImportStatus.COMMITTED, statement.error
    assert payees(account) == ["Public transport", "Trampoline"]


def test_word_boundaries_mean_the_same_on_import_and_on_demand(household, account, import_bytes):
    payee_regex_rule(household, "Bus", r"\bbus\b", set_payee="Bus")
    import_bytes(account, b"Date,Payee,Amount\n2024-03-15,City bus 12,-2.80\n2024-03-15,Busker,-1\n", commit=True)
    imported = payees(account)
    TransactionFactory(account=account, payee="Night bus")
    TransactionFactory(account=account, payee="Omnibusiness")
    rules_apply(household=household)
    on_demand = payees(account)
    assert imported == ["Bus", "Busker"]
    assert on_demand == ["Bus", "Bus", "Busker", "Omnibusiness"]


def test_a_stored_pattern_re2_refuses_never_matches_and_breaks_nothing(household, account, import_bytes):
    rule = rule_create(
        household=household,
        name="Legacy",
        conditions=[{"field": "payee", "operator": "contains", "value": "tram"}],
        set_payee="matched",
    )
    # As saved before RE2 was the engine: a lookbehind.
    Rule.objects.filter(pk=rule.pk).update(conditions=[{"field": "payee", "operator": "regex", "value": "(?<=T)ram"}])
    statement = import_bytes(account, b"Date,Payee,Amount\n2024-03-15,Tram,-2.80\n", commit=True)
    assert statement.status == ImportStatus.COMMITTED, statement.error
    assert rules_apply(household=household).changed == 0
    assert Transaction.objects.get(account=account).payee == "Tram"
