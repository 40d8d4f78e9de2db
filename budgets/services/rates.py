"""Writes to exchange rates: one at a time, or in bulk from a file (idempotent)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from budgets.models import ExchangeRate
from financetracker.core.money import parse_amount, validate_currency
from ledger.editable_fields import EditableFields

# What may be set on a rate, in form order (ledger/editable_fields.py): global reference data, no household.
EXCHANGE_RATE_EDITABLE_FIELDS = EditableFields(ExchangeRate, ("date", "base", "quote", "rate"), owner=None)


@dataclass(frozen=True)
class RateRow:
    date: date
    base: str
    quote: str
    rate: Decimal


def exchange_rates_upsert(*, rows: Iterable[RateRow], batch_size: int = 5000) -> int:
    """Insert or update rates in bulk (ON CONFLICT DO UPDATE): importing the same file twice changes nothing."""
    count = 0
    batch: list[ExchangeRate] = []
    with transaction.atomic():
        for row in rows:
            validate_currency(row.base)
            validate_currency(row.quote)
            if row.rate <= 0:
                raise ValidationError(f"{row.date} {row.base}/{row.quote}: a rate must be positive, got {row.rate}.")
            batch.append(ExchangeRate(date=row.date, base=row.base, quote=row.quote, rate=row.rate))
            if len(batch) >= batch_size:
                count += _upsert(batch)
                batch = []
        count += _upsert(batch)
    return count


def _upsert(batch: list[ExchangeRate]) -> int:
    if not batch:
        return 0
    # One row per key within a statement: ON CONFLICT cannot touch a row twice.
    unique = {(rate.base, rate.quote, rate.date): rate for rate in batch}
    ExchangeRate.objects.bulk_create(
        list(unique.values()),
        update_conflicts=True,
        unique_fields=["base", "quote", "date"],
        update_fields=["rate"],
    )
    return len(unique)


@transaction.atomic
def exchange_rate_create(*, date: date, base: str, quote: str, rate: Decimal | str) -> ExchangeRate:
    value = parse_amount(rate) if not isinstance(rate, Decimal) else rate
    obj = ExchangeRate(date=date, base=base, quote=quote, rate=value)
    for code in (base, quote):
        validate_currency(code)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def exchange_rate_update(*, exchange_rate: ExchangeRate, **fields: Any) -> ExchangeRate:
    EXCHANGE_RATE_EDITABLE_FIELDS.reject_unknown(fields)
    for name, value in fields.items():
        setattr(exchange_rate, name, value)
    validate_currency(exchange_rate.base)
    validate_currency(exchange_rate.quote)
    exchange_rate.full_clean()
    exchange_rate.save()
    return exchange_rate
