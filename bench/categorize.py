#!/usr/bin/env python
"""Learned categories: accuracy of the import's naive Bayes suggestions on the demo household, by time.

Learns from the demo household's categorised transactions before a cut-off and predicts the categories of
the last months' ones (a time split: the future is never seen while learning). Beside it, measured in the
same run on the same split, the baseline a simple importer uses: the most frequent category of the payee
in the past (no prediction for a payee never seen).

Printed for each: accuracy over all test transactions (a missing prediction counts as wrong), coverage
(share with a prediction) and accuracy where it predicts; for the classifier also at the confidence the
import requires before it suggests anything (uploads.suggestions.MIN_CONFIDENCE).

Usage:  DATABASE_URL=postgres://postgres@127.0.0.1:5432/ft_categorize_bench .venv/bin/python bench/categorize.py [--months 3]
The demo household is seeded once (fixed seed, ending 2026-11-30) and reused by later runs.

Measured twice: with the payees as the books have them, and as a bank prints them (a prefix, upper case, a
terminal number — what an import actually sees). The demo's payees map one to one onto categories, so on
the typed payees both methods are perfect; the second measurement is where they differ.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from database import ensure_database, start_django

start_django("ft_categorize_bench", uploads_in_tmp=True)

from ledger.demo import DEMO_HOUSEHOLD_NAME, seed_demo  # noqa: E402
from ledger.models import Household, Transaction  # noqa: E402
from uploads.suggestions import MIN_CONFIDENCE, classifier_for, tokens  # noqa: E402

DEMO_END = datetime.date(2026, 11, 30)


def report(name: str, right: int, predicted: int, total: int) -> None:
    where = f"{right / predicted:6.1%}" if predicted else "   n/a"
    print(f"{name:<44} accuracy {right / total:6.1%}   coverage {predicted / total:6.1%}   where it predicts {where}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--months", type=int, default=3, help="Months at the end to predict (default 3).")
    months = parser.parse_args().months
    ensure_database()
    seed_demo(today=DEMO_END)
    household_id = Household.objects.filter(name=DEMO_HOUSEHOLD_NAME).values_list("pk", flat=True).first()
    if household_id is None:
        raise SystemExit("No demo household: seed_demo did not create one.")
    year, month = DEMO_END.year, DEMO_END.month - months + 1
    while month < 1:
        year, month = year - 1, month + 12
    cut = datetime.date(year, month, 1)
    books = Transaction.objects.filter(household_id=household_id, category_id__isnull=False, transfer__isnull=True)
    past = list(books.filter(date__lt=cut).values_list("payee", "description", "category_id"))
    future = list(books.filter(date__gte=cut).values_list("payee", "description", "category_id"))
    if not future:
        raise SystemExit("No categorised transactions after the cut-off.")
    print(f"demo household {household_id}: learn from {len(past)} transactions before {cut}, predict {len(future)}")

    classifier = classifier_for(household_id, before=cut)
    print("\npayees as typed in the books:")
    measure(classifier, past, future)
    # What an import sees: the same payees as banks print them (upper case, a card or terminal number, a
    # prefix), deterministically. The learning side stays the household's own books.
    prefixes = ("POS", "SEPA-LASTSCHRIFT", "CARD 4711", "")
    written = [
        (f"{prefixes[index % 4]} {payee.upper()} {1000 + index % 9000}".strip(), description, category_id)
        for index, (payee, description, category_id) in enumerate(future)
    ]
    print("\npayees as a bank writes them (prefix, upper case, terminal number):")
    measure(classifier, past, written)


def measure(classifier: Any, past: list[Any], future: list[Any]) -> None:
    right = predicted = right_confident = confident = 0
    for payee, description, category_id in future:
        guess = classifier.predict(tokens(payee, description))
        if guess is None:
            continue
        predicted += 1
        right += guess[0] == category_id
        if guess[1] >= MIN_CONFIDENCE:
            confident += 1
            right_confident += guess[0] == category_id
    report("naive Bayes (payee + description words)", right, predicted, len(future))
    report(f"  the same, suggested only at ≥ {MIN_CONFIDENCE:.0%} confidence", right_confident, confident, len(future))

    by_payee: dict[str, Counter[int]] = defaultdict(Counter)
    for payee, _description, category_id in past:
        by_payee[payee.strip().casefold()][category_id] += 1
    right = predicted = 0
    for payee, _description, category_id in future:
        seen = by_payee.get(payee.strip().casefold())
        if not seen:
            continue
        predicted += 1
        right += seen.most_common(1)[0][0] == category_id
    report("baseline: the payee's most frequent category", right, predicted, len(future))


if __name__ == "__main__":
    main()
