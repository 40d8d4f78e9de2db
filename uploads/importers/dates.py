"""Dates as banks write them, with the day/month order decided from all of a file's dates, not the first one.

Forms read: ISO and its relatives (2024-03-15, 2024.03.15, 2024.03.15., 20240315, a time after it), numeric day-month
or month-day with "/", ".", "-" or Quicken's apostrophe before the year (3/15/24, 15.03.2024, 10.18.23,
1/ 1'00, 2/10'2020), and month names (15 Mar 2024, Mar 15, 2024, 23-Jan-15).

Two-digit years: after an apostrophe they are 20xx (Quicken writes 1999 as /99 and 2000 as '00); otherwise
00-69 are 20xx and 70-99 are 19xx.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

Order = Literal["ymd", "mdy", "dmy"]
ORDERS: tuple[Order, ...] = ("ymd", "mdy", "dmy")

# Year first: with separators (Hungarian banks end the date with a dot, "2019.04.19."), or all eight digits
# (a reference like 244081 is no date).
_ISO = re.compile(r"(\d{4})(?:([-./])(\d{1,2})\2(\d{1,2})\.?|(\d{2})(\d{2}))(?:[T ].*)?")
_NUMERIC = re.compile(r"(\d{1,2})\s*([-./])\s*(\d{1,2})\s*([-./'])\s*(\d{4}|\d{2})(?:[T ]+\d{1,2}:\d{2}.*)?")
_NAMED_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%y", "%d-%b-%Y", "%d %b %y", "%b %d %Y")


@dataclass(slots=True)
class _Parts:
    first: int
    second: int
    year: int


def _year(text: str, separator: str) -> int:
    value = int(text)
    if len(text) == 4:
        return value
    if separator == "'":
        return 2000 + value
    return 2000 + value if value < 70 else 1900 + value


def _numeric(text: str) -> _Parts | None:
    match = _NUMERIC.fullmatch(text)
    if match is None:
        return None
    return _Parts(int(match.group(1)), int(match.group(3)), _year(match.group(5), match.group(4)))


def _iso(text: str) -> date | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    try:
        month, day = match.group(3, 4) if match.group(2) else match.group(5, 6)
        return date(int(match.group(1)), int(month), int(day))
    except ValueError:
        return None


# strptime is slow: only text shaped like "15 Mar 2024", "Mar 15, 2024" or "23-Jan-15" is tried with it.
_NAMED_SHAPE = re.compile(r"\d{1,2}[ -][^\W\d_]{3,9}[ -]\d{2,4}|[^\W\d_]{3,9} \d{1,2},? \d{4}")


def _named(text: str) -> date | None:
    if _NAMED_SHAPE.fullmatch(text) is None:
        return None
    for fmt in _NAMED_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


@dataclass
class DateEvidence:
    """What a column (or a QIF file) says about its dates: seen forms and which order the values allow."""

    dates: int = 0
    not_dates: int = 0
    iso: int = 0
    numeric: int = 0
    day_first_only: int = 0  # first part > 12: only day-month reads it
    month_first_only: int = 0  # second part > 12: only month-day reads it
    dotted: int = 0

    def add(self, raw: str, times: int = 1) -> None:
        """One value seen `times` times."""
        text = raw.strip()
        if not text:
            return
        if _iso(text) is not None:
            self.dates += times
            self.iso += times
            return
        parts = _numeric(text)
        if parts is not None:
            if (parts.first > 12 and parts.second > 12) or parts.first > 31 or parts.second > 31:
                self.not_dates += times
                return
            self.dates += times
            self.numeric += times
            if "." in text:
                self.dotted += times
            if parts.first > 12:
                self.day_first_only += times
            elif parts.second > 12:
                self.month_first_only += times
            return
        if _named(text) is not None:
            self.dates += times
            return
        self.not_dates += times

    def add_all(self, values: Iterable[str]) -> DateEvidence:
        # Each distinct value read once: a statement's date column repeats a few thousand dates at most, and a
        # whole column of 100,000 rows (read when the first rows leave the order open) cost 0.4 s value by value.
        for value, times in Counter(values).items():
            self.add(value, times)
        return self

    @property
    def conflicting(self) -> bool:
        return bool(self.day_first_only and self.month_first_only)

    @property
    def settled(self) -> bool:
        return bool(self.day_first_only or self.month_first_only or not self.numeric)

    def order(self, default: Order | None = None) -> Order:
        """The order the values settle; when none does, the default (else dotted dates day-first, others month-first)."""
        if self.day_first_only and not self.month_first_only:
            return "dmy"
        if self.month_first_only and not self.day_first_only:
            return "mdy"
        if default is not None:
            return default
        return "dmy" if self.dotted * 2 > self.numeric else "mdy"

    @property
    def share(self) -> float:
        seen = self.dates + self.not_dates
        return self.dates / seen if seen else 0.0


class FlexibleDateReader:
    """Reads every supported form with one day/month order; memoised (statements repeat a few hundred dates)."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self._memo: dict[str, date] = {}

    @property
    def description(self) -> str:
        return {"ymd": "year-month-day", "mdy": "month/day/year", "dmy": "day/month/year"}[self.order]

    def __call__(self, raw: str) -> date:
        text = raw.strip()
        found = self._memo.get(text)
        if found is not None:
            return found
        found = _iso(text)
        if found is None:
            parts = _numeric(text)
            if parts is not None:
                month, day = (parts.first, parts.second) if self.order == "mdy" else (parts.second, parts.first)
                try:
                    found = date(parts.year, month, day)
                except ValueError:
                    raise ValueError(f"{text!r} is not a date ({self.description})") from None
            else:
                found = _named(text)
        if found is None:
            raise ValueError(f"{text!r} is not a date")
        if len(self._memo) > 20000:
            self._memo.clear()
        self._memo[text] = found
        return found
