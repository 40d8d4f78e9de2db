"""What every parser yields, and the text helpers they share (encodings, dates, amounts)."""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import IO, TYPE_CHECKING

from financetracker.core.money import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS
from uploads.sniffing import utf16_without_bom

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


class ImportFileError(ValueError):
    """The whole file cannot be read (not one bad row: those are ParsedRow.error)."""

    def __init__(self, message: str, line_number: int | None = None) -> None:
        super().__init__(message if line_number is None else f"line {line_number}: {message}")
        self.line_number = line_number


@dataclass(slots=True)
class ParsedRow:
    line_number: int
    date: date | None = None
    amount: Decimal | None = None
    payee: str = ""
    description: str = ""
    bank_id: str = ""
    error: str = ""
    # Not a transaction, and said so (a totals line, an opening balance): shown in the preview, never imported.
    skip: str = ""


_CHUNK = 1 << 16


def detect_encoding(stream: IO[bytes]) -> str:
    """BOM first; UTF-16 without one; else UTF-8 if every byte decodes; else Windows-1252; else Latin-1.
    Streams, then rewinds."""
    stream.seek(0)
    head = stream.read(512)
    stream.seek(0)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    # NUL-padded UTF-16 decodes as UTF-8 too, into text with a NUL between the characters.
    if (bomless_utf16 := utf16_without_bom(head)) is not None:
        return bomless_utf16
    for encoding in ("utf-8", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            stream.seek(0)
            continue
        stream.seek(0)
        return encoding
    stream.seek(0)
    return "latin-1"


class _RawReader(io.RawIOBase):
    """Adapts any object with read(n) (a Django File, an S3 object) for io.TextIOWrapper."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def open_text(stream: IO[bytes], encoding: str | None = None) -> tuple[io.TextIOWrapper, str]:
    encoding = encoding or detect_encoding(stream)
    stream.seek(0)
    # newline="" keeps CR/LF inside quoted CSV fields and lets each parser see CRLF files as lines.
    text = io.TextIOWrapper(io.BufferedReader(_RawReader(stream), _CHUNK), encoding=encoding, newline="")
    return text, encoding


_AMOUNT_JUNK = re.compile(r"[\s\u00a0\u202f'’€$£¥]|EUR|USD|GBP|CHF|CAD|AUD")
_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_MAX_INTEGER_DIGITS = AMOUNT_MAX_DIGITS - AMOUNT_DECIMAL_PLACES


# The plain forms almost every row of a statement uses ("-1.234,56", "12.30"), read without the clean-up
# below; anything else takes the full path, which gives the same result.
_FAST_FORMS = {
    ".": (re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,4})?"), ","),
    ",": (re.compile(r"-?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d{1,4})?"), "."),
}


def parse_decimal(text: str, *, decimal_separator: str = ".") -> Decimal:
    """A bank's amount text as a Decimal: "1.234,56", "-30.000", "(12.30)", "12.30-", "€ 5". Never a float."""
    fast = _FAST_FORMS.get(decimal_separator)
    if fast is not None and fast[0].fullmatch(text):
        plain = text.replace(fast[1], "")
        amount = Decimal(plain.replace(",", ".") if decimal_separator == "," else plain)
        if amount.adjusted() < _MAX_INTEGER_DIGITS:
            return amount
    value = _AMOUNT_JUNK.sub("", text).replace("\u2212", "-")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1]
    if value.endswith("-"):
        negative, value = True, value[:-1]
    thousands = "." if decimal_separator == "," else ","
    value = value.replace(thousands, "")
    if decimal_separator == ",":
        value = value.replace(",", ".")
    if not _PLAIN.match(value):
        raise ValueError(f"{text.strip()!r} is not an amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:  # pragma: no cover - guarded by the pattern
        raise ValueError(f"{text.strip()!r} is not an amount") from None
    exponent = amount.as_tuple().exponent  # an int: _PLAIN admits no NaN or infinity
    if isinstance(exponent, int) and -exponent > AMOUNT_DECIMAL_PLACES:
        # "-3.77000": trailing zeros past the places we keep are no precision lost.
        rounded = amount.quantize(Decimal(1).scaleb(-AMOUNT_DECIMAL_PLACES))
        if rounded != amount:
            raise ValueError(f"{text.strip()!r} has more than {AMOUNT_DECIMAL_PLACES} decimal places")
        amount = rounded
    if amount.adjusted() >= _MAX_INTEGER_DIGITS:
        raise ValueError(f"{text.strip()!r} is out of range")
    return -amount if negative else amount


class DateReader:
    """strptime with a small memo: statements repeat the same few hundred dates thousands of times."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self._memo: dict[str, date] = {}

    def __call__(self, text: str) -> date:
        text = text.strip()
        found = self._memo.get(text)
        if found is None:
            try:
                found = datetime.strptime(text, self.fmt).date()
            except ValueError:
                raise ValueError(f"{text!r} is not a date in the format {self.fmt}") from None
            if len(self._memo) > 20000:
                self._memo.clear()
            self._memo[text] = found
        return found


def clip(text: str, length: int) -> str:
    return " ".join(text.split())[:length]
