"""Money is exact: Decimal in Python, numeric in PostgreSQL, one place that knows each currency's scale.

The table below is ISO 4217's list of active codes with their minor units (decimal places).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.safestring import SafeString

# Every amount column is numeric(19, 4): four places covers every ISO 4217 currency.
AMOUNT_MAX_DIGITS = 19
AMOUNT_DECIMAL_PLACES = 4
# What a person may enter: |amount| < 10^12 (a trillion of any currency, yen included). The columns hold
# < 10^15, so a thousand maximal amounts still fit in one stored figure; the one stored sum of unbounded
# count, the monthly account total, is numeric(38, 4) (10^22 maximal amounts). Python's Decimal context
# (28 digits) adds 10^12 such amounts exactly.
AMOUNT_MAX_INTEGER_DIGITS = 12
AMOUNT_LIMIT = Decimal(10) ** AMOUNT_MAX_INTEGER_DIGITS
MONTH_TOTAL_MAX_DIGITS = 38

# The one rounding mode of every converted or averaged figure: halves away from zero (0.125 → 0.13,
# -0.125 → -0.13). It is what PostgreSQL's round(numeric, places) does, so SQL and Python agree (see
# README "Rounding and totals"). SQL reports round with `round(x, places)`; Python with `quantize`.
ROUNDING = ROUND_HALF_UP

_ZERO_DECIMAL = (
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF "
    # Precious metals, SDR and testing codes have no minor unit either.
    "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA"
)
_THREE_DECIMAL = "BHD IQD JOD KWD LYD OMR TND"
_FOUR_DECIMAL = "CLF UYW"
_TWO_DECIMAL = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP "
    "GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK "
    "LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK "
    "NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD "
    "SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG "
    "YER ZAR ZMW ZWG ZWL"
)

CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMAL.split(), 2),
    **dict.fromkeys(_ZERO_DECIMAL.split(), 0),
    **dict.fromkeys(_THREE_DECIMAL.split(), 3),
    **dict.fromkeys(_FOUR_DECIMAL.split(), 4),
}
CURRENCY_CHOICES = sorted((code, code) for code in CURRENCY_EXPONENTS)

# Plain decimal notation only: no exponents, no NaN/Infinity, no thousands separators.
# ASCII digits only: `\d` would also accept Arabic-Indic and other Unicode digits ("١٢" read as 12).
_PLAIN_DECIMAL = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise ValidationError(f"{currency!r} is not an ISO 4217 currency code.", code="currency") from None


def validate_currency(currency: str) -> None:
    currency_exponent(currency)


def parse_amount(value: object) -> Decimal:
    """Turn user input into a Decimal, refusing floats, exponents, NaN, Infinity and blanks."""
    if isinstance(value, Decimal):
        text = str(value)
    elif isinstance(value, bool | float):
        raise ValidationError('Send amounts as decimal strings such as "-12.30".', code="invalid")
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise ValidationError('Send amounts as decimal strings such as "-12.30".', code="invalid")
    if not _PLAIN_DECIMAL.match(text):
        raise ValidationError(f'{text!r} is not a plain decimal amount such as "-12.30".', code="invalid")
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above already guards this
        raise ValidationError(f"{text!r} is not a decimal amount.", code="invalid") from None
    if abs(amount) >= AMOUNT_LIMIT:
        raise ValidationError(
            f"{text!r} is too large: amounts have at most {AMOUNT_MAX_INTEGER_DIGITS} digits before the point.",
            code="max_digits",
        )
    return amount


def decimal_places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def validate_amount_for_currency(amount: Decimal, currency: str) -> None:
    allowed = currency_exponent(currency)
    if decimal_places(amount) > allowed:
        places = "no decimal places" if allowed == 0 else f"at most {allowed} decimal places"
        raise ValidationError(f"{currency} amounts take {places}; got {amount}.", code="precision")


def quantize(amount: Decimal, currency: str) -> Decimal:
    """The amount with exactly its currency's number of places, as shown to people ("-12.30")."""
    exponent = currency_exponent(currency)
    return amount.quantize(Decimal(1).scaleb(-exponent), rounding=ROUNDING)


def format_amount(amount: Decimal, currency: str) -> str:
    """The machine form ("-1234.50"): API fields, CSV cells, report JSON. People read `display_amount`."""
    return f"{quantize(amount, currency):f}"


# --- Money as people read it ------------------------------------------------------------------------
# format_amount above is the machine form (API, CSV: "-1234.50"); what follows is for screens and messages.
MINUS = "\u2212"  # a real minus sign: as wide as "+", never broken from its figure, read aloud as "minus"


def display_amount(
    amount: Decimal | int | str | None, currency: str, *, signed: bool = False, code: bool = True
) -> str:
    """ "-1,234.50 EUR": the currency's own places, thousands grouped, a minus sign (a plus when `signed`)."""
    if amount is None or amount == "":
        return ""
    value = quantize(Decimal(amount), currency)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    text = f"{sign}{abs(value):,f}"
    return f"{text} {currency}" if code else text


def amount_class(amount: Decimal | int | str | None) -> str:
    """A CSS class telling negatives from positives, alongside the sign (never instead of it)."""
    if amount is None or amount == "":
        return "ft-amount"
    value = Decimal(amount)
    return "ft-amount ft-negative" if value < 0 else ("ft-amount ft-positive" if value > 0 else "ft-amount ft-zero")


RATE_SIGNIFICANT_DIGITS = 6


def display_rate(rate: Decimal | str | None) -> str:
    """An exchange rate with six significant digits ("1.08523", "157.230" → "157.23"), never exponents."""
    if rate is None or rate == "":
        return ""
    value = Decimal(rate)
    if value == 0:
        return "0"
    adjusted = value.adjusted()  # the exponent of the leading digit
    places = max(0, RATE_SIGNIFICANT_DIGITS - 1 - adjusted)
    text = f"{value.quantize(Decimal(1).scaleb(-places), rounding=ROUNDING):,f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money_html(amount: Decimal | int | str | None, currency: str, *, signed: bool = False) -> SafeString:
    """An amount for a page: `<span class="ft-amount ft-negative">-1,234.50 EUR</span>` (escaped)."""
    if amount is None or amount == "":
        return format_html("")
    return format_html(
        '<span class="{}">{}</span>', amount_class(amount), display_amount(amount, currency, signed=signed)
    )
