"""The corpus of other projects' public statement files (tests/uploads/corpus): every one imports through the
real services with the count, sum, dates and texts worked out by hand, and a second import of the same file adds
nothing; a file we cannot read is refused with a message that says why, and nothing is imported."""

from __future__ import annotations

import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Max, Min, Sum

from ledger.models import Transaction
from uploads.models import ImportStatus, RowStatus
from uploads.services.statement_imports import statement_import_commit

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
EXPECTED: list[dict[str, Any]] = tomllib.loads((CORPUS / "expected.toml").read_text())["file"]


def by_path(entry: dict[str, Any]) -> str:
    return str(entry["path"])


def test_the_corpus_holds_at_least_thirty_files_each_with_an_expectation():
    on_disk = {
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*")
        if path.is_file() and path.suffix not in (".md", ".toml")
    }
    assert on_disk == {entry["path"] for entry in EXPECTED}
    assert len(on_disk) >= 30


def refusal(account, import_bytes, data: bytes, mapping: dict[str, Any] | None) -> str:
    """Why the file was refused: at upload (what it is) or at preview (what it holds)."""
    try:
        statement = import_bytes(account, data, name="statement", mapping=mapping)
    except ValidationError as error:
        return " ".join(error.messages)
    assert statement.status == ImportStatus.FAILED, statement.counts
    return statement.error


@pytest.mark.parametrize("entry", EXPECTED, ids=by_path)
def test_each_corpus_file_imports_right_once_and_adds_nothing_the_second_time(account, import_bytes, owner, entry):
    data = (CORPUS / entry["path"]).read_bytes()
    # No format and no name hint: what the file is, is decided from its bytes.
    mapping = entry.get("mapping")
    if "refused" in entry:
        assert entry["refused"] in refusal(account, import_bytes, data, mapping)
        assert not Transaction.objects.filter(account=account).exists()
        return
    first = import_bytes(account, data, name="statement", mapping=mapping)
    assert first.status == ImportStatus.PREVIEWED, first.error
    errors = entry.get("errors", 0)
    assert first.counts["rows"] - first.counts["skipped"] == entry["rows"], first.counts
    assert first.counts["skipped"] == entry.get("skipped", 0), list(first.rows.values_list("line_number", "reason"))
    assert first.counts["error"] == errors, list(first.rows.filter(status=RowStatus.ERROR).values_list("error"))
    ignore = list(first.rows.filter(status=RowStatus.ERROR).values_list("id", flat=True))
    first = statement_import_commit(statement_import=first, user=owner, ignore=ignore)
    assert first.status == ImportStatus.COMMITTED
    assert first.counts["imported"] == entry["rows"] - errors
    books = Transaction.objects.filter(account=account)
    total = books.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    assert total == Decimal(entry["sum"])
    if "closing" in entry:  # the file states its balances: what moved is their difference
        assert total == Decimal(entry["closing"]) - Decimal(entry["opening"])
    if "first" in entry:
        span = books.aggregate(first=Min("date"), last=Max("date"))
        assert (span["first"], span["last"]) == (date.fromisoformat(entry["first"]), date.fromisoformat(entry["last"]))
    # Payees, memos and references the file holds are kept, each on some transaction.
    texts = [f"{payee} | {description}" for payee, description in books.values_list("payee", "description")]
    for text in entry.get("texts", []):
        assert any(text in kept for kept in texts), (text, texts)

    again = import_bytes(account, data, name="statement", mapping=mapping)
    assert again.counts["new"] == 0 and again.counts["near_match"] == 0, again.counts
    assert Transaction.objects.filter(account=account).count() == entry["rows"] - errors
