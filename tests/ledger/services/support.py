"""Helpers of the ledger service tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

D = Decimal
DAY = datetime.date(2024, 3, 15)


def field_errors(error: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return error.value.message_dict
