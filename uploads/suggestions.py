"""Categories learned from the household's own books, for imported rows that no rule categorises.

A multinomial naive Bayes classifier over the words of payee and description (in the spirit of GnuCash's
Bayesian import matcher): each categorised transaction is one document. It is rebuilt from the books at
each preview, so a suggestion accepted at commit (which sets the category on the new transaction) teaches
the next import. Rules always win: a row some category rule matches gets no suggestion, and at commit an
accepted suggestion fills only a category the rules left empty.

Also suggested: a cleaned payee (card numbers, reference codes and shouting removed), applied with the
accepted category.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import connection

from ledger.models import Transaction
from ledger.rules import CompiledRule, active_rules

# Words of letters only: references, card and terminal numbers say nothing about the category.
_WORD = re.compile(r"(?<![^\W_])[^\W\d_]{2,}(?![^\W_])", re.UNICODE)
_NOISE = re.compile(r"\b(?:\w*\d\w*|pos|sepa|ec|card|kartenzahlung|lastschrift|debit|purchase)\b|[*#/]", re.IGNORECASE)
MIN_CONFIDENCE = 0.5
TRAINING_LIMIT = 50000


def tokens(payee: str, description: str) -> list[str]:
    """Words of two letters or more, case-folded; payee words count twice (they say most about the category)."""
    words = [word.casefold() for word in _WORD.findall(payee)]
    extra = [word.casefold() for word in _WORD.findall(description)]
    return words + words + extra


def clean_payee(payee: str) -> str:
    """'POS 1234 BAKERY MUELLER*BERLIN 0815' → 'Bakery Mueller Berlin'."""
    cleaned = " ".join(_NOISE.sub(" ", payee).split())
    if cleaned.isupper():
        cleaned = cleaned.title()
    return cleaned[:200] if len(cleaned) >= 2 else payee


@dataclass
class Classifier:
    documents: Counter[int] = field(default_factory=Counter)
    words: dict[int, Counter[str]] = field(default_factory=dict)
    totals: Counter[int] = field(default_factory=Counter)
    vocabulary: set[str] = field(default_factory=set)

    def learn(self, category_id: int, words: Iterable[str]) -> None:
        counts = self.words.setdefault(category_id, Counter())
        self.documents[category_id] += 1
        for word in words:
            counts[word] += 1
            self.totals[category_id] += 1
            self.vocabulary.add(word)

    def learn_counted(self, category_id: int, documents: int, words: Counter[str]) -> None:
        """`documents` documents of a category at once, given their words' counts: the same model as
        `learn` called once per document."""
        self.words.setdefault(category_id, Counter()).update(words)
        self.documents[category_id] += documents
        self.totals[category_id] += words.total()
        self.vocabulary.update(words)

    def predict(self, words: list[str]) -> tuple[int, float] | None:
        """The most probable category and its posterior probability, or None when no word was seen before."""
        known = [word for word in words if word in self.vocabulary]
        if not known or not self.documents:
            return None
        all_documents = sum(self.documents.values())
        size = len(self.vocabulary)
        scores: dict[int, float] = {}
        for category_id, documents in self.documents.items():
            counts, total = self.words[category_id], self.totals[category_id]
            score = math.log(documents / all_documents)
            for word in known:
                score += math.log((counts[word] + 1) / (total + size))
            scores[category_id] = score
        best = max(scores, key=lambda category_id: scores[category_id])
        top = scores[best]
        # Posterior by normalising the exponentiated scores (shifted by the best one to stay in range).
        confidence = 1 / sum(math.exp(score - top) for score in scores.values())
        return best, confidence


def classifier_for(household_id: int, *, before: date | None = None) -> Classifier:
    """Trained on the household's categorised transactions (the latest TRAINING_LIMIT, or those before a date)."""
    books = Transaction.objects.filter(household_id=household_id, category_id__isnull=False, transfer__isnull=True)
    if before is not None:
        books = books.filter(date__lt=before)
    # Naive Bayes needs only each category's document count and word counts, so the texts of a category
    # are joined and searched by one regex call each instead of two per row: the preview learnt from 50k
    # rows in ~0.7 s, mostly per-row Python (bench/README.md). Same counts as tokens() row by row: a
    # newline is no word character, so no word spans two texts.
    texts: dict[int, tuple[list[str], list[str]]] = {}
    for payee, description, category_id in books.order_by("-date", "-id").values_list(
        "payee", "description", "category_id"
    )[:TRAINING_LIMIT]:
        payees, descriptions = texts.setdefault(category_id, ([], []))
        payees.append(payee)
        descriptions.append(description)
    classifier = Classifier()
    for category_id, (payees, descriptions) in texts.items():
        counts: Counter[str] = Counter()
        for text, weight in (("\n".join(payees), 2), ("\n".join(descriptions), 1)):  # payee words count twice
            for word, count in Counter(_WORD.findall(text)).items():
                counts[word.casefold()] += count * weight
        classifier.learn_counted(category_id, len(payees), counts)
    return classifier


def _category_rules(household_id: int) -> list[CompiledRule]:
    # The rules engine's own matcher, so "a rule matches" means here exactly what it means at commit.
    return [rule for rule in active_rules(household_id) if rule.rule.set_category_id is not None]


@dataclass
class _Candidate:
    payee: str
    description: str
    amount: Decimal
    account_id: int


def suggest_for_import(*, household_id: int, import_id: int, account_id: int) -> int:
    """Store a suggested category (and cleaned payee) on the import's new rows; returns how many got one."""
    classifier = classifier_for(household_id)
    if not classifier.documents:
        return 0
    rules = _category_rules(household_id)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, payee, description, amount FROM uploads_statementimportrow "
            "WHERE household_id = %s AND statement_import_id = %s AND status IN ('new', 'near_match')",
            [household_id, import_id],
        )
        found = cursor.fetchall()
    # Bank texts differ mostly by numbers, which tokens() drops: one prediction per set of words.
    memo: dict[tuple[str, ...], tuple[int, float] | None] = {}
    updates: list[tuple[int, int, float, str]] = []
    for row_id, payee, description, amount in found:
        candidate = _Candidate(payee, description, amount, account_id)
        if any(rule.matches(candidate) for rule in rules):
            continue
        words = tokens(payee, description)
        key = tuple(words)
        if key not in memo:
            memo[key] = classifier.predict(words)
        prediction = memo[key]
        if prediction is None or prediction[1] < MIN_CONFIDENCE:
            continue
        cleaned = clean_payee(payee)
        updates.append((row_id, prediction[0], round(prediction[1], 4), cleaned if cleaned != payee else ""))
    if updates:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE uploads_statementimportrow r SET suggested_category_id = u.category_id, "
                "suggestion_confidence = u.confidence, suggested_payee = u.payee "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::float8[], %s::text[]) AS u(id, category_id, confidence, payee) "
                "WHERE r.household_id = %s AND r.statement_import_id = %s AND r.id = u.id",
                [
                    [update[0] for update in updates],
                    [update[1] for update in updates],
                    [update[2] for update in updates],
                    [update[3] for update in updates],
                    household_id,
                    import_id,
                ],
            )
    return len(updates)


# Runs after the rules: an accepted suggestion fills only a category the rules left empty, and cleans the
# payee only where no rule set one. Run inside the commit: its imported rows are the ones still staged new or near
# match (kept as new), under the transaction ids the preview reserved.
ACCEPT_SQL = """
UPDATE ledger_transaction t
   SET category_id = r.suggested_category_id,
       payee = CASE WHEN r.suggested_payee <> '' AND t.payee = r.payee THEN r.suggested_payee ELSE t.payee END,
       updated_at = now()
  FROM uploads_statementimportrow r
 WHERE r.household_id = %(household)s AND r.statement_import_id = %(import)s AND r.status IN ('new', 'near_match')
   AND r.suggested_category_id IS NOT NULL AND (%(accept_all)s OR r.id = ANY(%(accept)s))
   AND t.household_id = %(household)s AND t.id = r.transaction_id AND t.category_id IS NULL
   AND EXISTS (SELECT 1 FROM ledger_category c WHERE c.household_id = %(household)s AND c.id = r.suggested_category_id)
"""


def accept_suggestions(*, household_id: int, import_id: int, accept: list[int], accept_all: bool) -> int:
    if not accept and not accept_all:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            ACCEPT_SQL, {"household": household_id, "import": import_id, "accept": accept, "accept_all": accept_all}
        )
        return cursor.rowcount
