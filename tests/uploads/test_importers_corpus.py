"""The corpus of other projects' public statement files (tests/uploads/corpus): every one imports through the
real services with the count and sum worked out by hand, and a second import of the same file adds nothing."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum

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


@pytest.mark.parametrize("entry", EXPECTED, ids=by_path)
def test_each_corpus_file_imports_right_once_and_adds_nothing_the_second_time(account, import_bytes, owner, entry):
    data = (CORPUS / entry["path"]).read_bytes()
    # No format and no name hint: what the file is, is decided from its bytes.
    mapping = entry.get("mapping")
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
    total = Transaction.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    assert total == Decimal(entry["sum"])

    again = import_bytes(account, data, name="statement", mapping=mapping)
    assert again.counts["new"] == 0 and again.counts["near_match"] == 0, again.counts
    assert Transaction.objects.filter(account=account).count() == entry["rows"] - errors
