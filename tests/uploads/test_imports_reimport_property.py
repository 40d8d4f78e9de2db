"""Re-import, proven: whatever part of a statement is imported, in whatever order and however often, each of
its rows ends up in the books exactly once — and identical rows on one day (two tram fares) by their count."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Transaction
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

Row = tuple[str, str, str]  # date, payee, amount
rows = st.tuples(
    st.sampled_from(["2024-03-14", "2024-03-15"]),
    st.sampled_from(["Tram", "Bakery"]),
    st.sampled_from(["-2.80", "-3.10"]),
)


@st.composite
def statement_and_files(draw: st.DrawFn) -> tuple[list[Row], list[list[Row]]]:
    """A statement (identical rows likely) and the files a person imports: overlapping parts of it, shuffled,
    some repeated; the whole statement comes last."""
    statement = draw(st.lists(rows, min_size=1, max_size=7))
    parts = draw(
        st.lists(st.lists(st.booleans(), min_size=len(statement), max_size=len(statement)), min_size=0, max_size=3)
    )
    files = [[row for row, keep in zip(statement, mask, strict=True) if keep] for mask in parts]
    files.append(list(statement))
    return statement, [draw(st.permutations(part)) for part in files if part]


def as_csv(part: list[Row]) -> bytes:
    return ("Date,Payee,Amount\n" + "".join(f"{day},{payee},{amount}\n" for day, payee, amount in part)).encode()


def booked(account) -> Counter[Row]:
    return Counter(
        (day.isoformat(), payee, f"{amount:.2f}")
        for day, payee, amount in Transaction.objects.filter(account=account).values_list("date", "payee", "amount")
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=statement_and_files())
def test_any_permutation_overlap_or_repetition_imports_each_row_exactly_once(household, import_bytes, case):
    statement, files = case
    account = AccountFactory(household=household, currency="EUR")
    most: Counter[Row] = Counter()
    for part in files:
        imported = import_bytes(account, as_csv(part), commit=True)
        assert imported.counts["error"] == 0
        # Rows already booked are recognised, however the file is ordered; only extra identical ones are added.
        most |= Counter(part)
        assert booked(account) == most
    assert booked(account) == Counter(statement)
    assert sum(booked(account).values()) == len(statement)
    assert (
        Transaction.objects.filter(account=account).exclude(amount__in=[Decimal("-2.80"), Decimal("-3.10")]).count()
        == 0
    )
