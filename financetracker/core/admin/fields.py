"""Form fields the admin's forms share."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from financetracker.core.money import parse_amount


class AmountFormField(forms.DecimalField):
    """An amount typed into a form, read exactly as the API reads it (`money.parse_amount`). Django's DecimalField
    reads what Python's Decimal does: "1_000" as 1000 and Arabic-Indic "٣" as 3, both refused by the API."""

    def to_python(self, value: Any) -> Any:  # a Decimal or None (the stubs type DecimalField's as IntegerField's)
        if value in self.empty_values:
            return None
        try:
            return parse_amount(value)
        except ValidationError as error:
            raise ValidationError(error.messages, code="invalid") from None
