"""`{% load money %}`: amounts and rates as people read them (see financetracker.core.money.display_amount).

{{ tx.amount|money:tx.account.currency }}         <span class="ft-amount ft-negative">-134.21 EUR</span>
{{ tx.amount|signed_money:tx.account.currency }}  … "+2,500.00 EUR" for a positive amount
{{ tx.amount|money_text:currency }}               -134.21 EUR (plain text, for attributes)
{{ rate.rate|rate }}                              1.08523
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.safestring import SafeString

from financetracker.core.money import display_amount, display_rate, money_html

register = template.Library()


@register.filter
def money(amount: Decimal | str | None, currency: str) -> SafeString:
    return money_html(amount, currency)


@register.filter
def signed_money(amount: Decimal | str | None, currency: str) -> SafeString:
    return money_html(amount, currency, signed=True)


@register.filter
def money_text(amount: Decimal | str | None, currency: str) -> str:
    return display_amount(amount, currency)


@register.filter
def rate(value: Decimal | str | None) -> str:
    return display_rate(value)
