"""Schedules in words, and the simple rules a form can build, over RFC 5545 recurrences (stored as text).

`parse_simple` reads a rule into the few choices the admin's form offers (frequency, interval, weekdays, a
day of the month or an nth weekday, a month); a rule with anything else (several RRULE lines, RDATE/EXDATE,
BYSETPOS, several month days…) is None there: the form keeps it untouched. `describe` puts any rule in
words, naming what it does not understand rather than leaving it out.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

FREQUENCIES = {
    "DAILY": ("Daily", "day"),
    "WEEKLY": ("Weekly", "week"),
    "MONTHLY": ("Monthly", "month"),
    "YEARLY": ("Yearly", "year"),
}
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
ORDINAL_WORDS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second to last"}


def ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class SimpleRule:
    freq: str  # DAILY, WEEKLY, MONTHLY, YEARLY
    interval: int = 1
    weekdays: tuple[int, ...] = ()  # WEEKLY: 0 = Monday
    month_day: int | None = None  # MONTHLY/YEARLY: 1..31, or -1 for the last day
    nth: int | None = None  # MONTHLY: the nth (1..4, -1 last) `nth_weekday` of the month
    nth_weekday: int | None = None
    month: int | None = None  # YEARLY: 1..12

    def to_rrule(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.freq == "WEEKLY" and self.weekdays:
            parts.append("BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in sorted(self.weekdays)))
        if self.freq == "MONTHLY" and self.nth is not None and self.nth_weekday is not None:
            parts.append(f"BYDAY={self.nth}{WEEKDAY_CODES[self.nth_weekday]}")
        elif self.freq in ("MONTHLY", "YEARLY") and self.month_day is not None:
            if self.freq == "YEARLY" and self.month is not None:
                parts.append(f"BYMONTH={self.month}")
            parts.append(f"BYMONTHDAY={self.month_day}")
        return ";".join(parts)


def _rrule_parts(text: str) -> tuple[dict[str, str], list[str]] | None:
    """The one RRULE's key=value parts, and the other lines; None when there is no single RRULE."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    rrules = [line for line in lines if line.upper().startswith("RRULE:") or "=" in line.split(":", 1)[0]]
    if len(rrules) != 1:
        return None
    others = [line for line in lines if line is not rrules[0]]
    body = rrules[0].split(":", 1)[1] if rrules[0].upper().startswith("RRULE:") else rrules[0]
    parts: dict[str, str] = {}
    for item in body.split(";"):
        if "=" not in item:
            return None
        key, value = item.split("=", 1)
        parts[key.strip().upper()] = value.strip().upper()
    return parts, others


def parse_simple(text: str) -> SimpleRule | None:
    """The form's choices for a rule, or None when the form cannot express it exactly."""
    parsed = _rrule_parts(text)
    if parsed is None:
        return None
    parts, others = parsed
    if others or parts.get("FREQ") not in FREQUENCIES:
        return None
    freq = parts.pop("FREQ")
    try:
        interval = int(parts.pop("INTERVAL", "1"))
        byday = [d for d in parts.pop("BYDAY", "").split(",") if d]
        monthdays = [int(d) for d in parts.pop("BYMONTHDAY", "").split(",") if d]
        months = [int(m) for m in parts.pop("BYMONTH", "").split(",") if m]
    except ValueError:
        return None
    if parts or interval < 1:  # BYSETPOS, COUNT, UNTIL, WKST…: kept as written
        return None
    rule: SimpleRule | None = None
    if freq == "DAILY" and not (byday or monthdays or months):
        rule = SimpleRule(freq, interval)
    elif freq == "WEEKLY" and not (monthdays or months) and all(d in WEEKDAY_CODES for d in byday):
        rule = SimpleRule(freq, interval, weekdays=tuple(sorted(WEEKDAY_CODES.index(d) for d in byday)))
    elif freq == "MONTHLY" and not months:
        if not byday and len(monthdays) <= 1 and all(d == -1 or 1 <= d <= 31 for d in monthdays):
            rule = SimpleRule(freq, interval, month_day=monthdays[0] if monthdays else None)
        elif len(byday) == 1 and not monthdays and byday[0][-2:] in WEEKDAY_CODES:
            try:
                nth = int(byday[0][:-2])
            except ValueError:
                return None
            if nth in (1, 2, 3, 4, -1):
                rule = SimpleRule(freq, interval, nth=nth, nth_weekday=WEEKDAY_CODES.index(byday[0][-2:]))
    elif (
        freq == "YEARLY"
        and not byday
        and len(months) == len(monthdays) <= 1
        and all(1 <= m <= 12 for m in months)
        and all(1 <= d <= 31 for d in monthdays)
    ):
        rule = SimpleRule(
            freq, interval, month=months[0] if months else None, month_day=monthdays[0] if monthdays else None
        )
    # Only a rule that writes back exactly as it was read is "simple": nothing is reordered or dropped.
    if rule is None or _canonical(rule.to_rrule()) != _canonical(text):
        return None
    return rule


def _canonical(text: str) -> dict[str, str]:
    parsed = _rrule_parts(text)
    if parsed is None:
        return {}
    parts = dict(parsed[0])
    if parts.get("INTERVAL") == "1":
        del parts["INTERVAL"]
    return parts


def _weekday_list(days: list[int]) -> str:
    names = [calendar.day_name[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _month_day(day: int) -> str:
    return "the last day" if day == -1 else (f"the {ordinal(-day)} last day" if day < 0 else f"the {ordinal(day)}")


def describe(text: str, start: date | None = None) -> str:
    """ "Monthly on the 1st", "Every 2 weeks on Monday", "Yearly on 15 March"; parts not understood are named."""
    parsed = _rrule_parts(text)
    if parsed is None:
        return f"Custom rule: {' '.join(text.split())}"
    parts, others = parsed
    parts = dict(parts)
    freq = parts.pop("FREQ", "")
    if freq not in FREQUENCIES:
        return f"Custom rule: {' '.join(text.split())}"
    adverb, unit = FREQUENCIES[freq]
    try:
        interval = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        interval = 1
    words = adverb if interval == 1 else f"Every {interval} {unit}s"
    byday = [d for d in parts.pop("BYDAY", "").split(",") if d]
    monthdays = [d for d in parts.pop("BYMONTHDAY", "").split(",") if d]
    months = [m for m in parts.pop("BYMONTH", "").split(",") if m]
    unknown: list[str] = []
    try:
        month_names = [calendar.month_name[int(m)] for m in months]
        day_texts = [_month_day(int(d)) for d in monthdays]
    except (ValueError, IndexError):
        return f"Custom rule: {' '.join(text.split())}"
    plain_days = [d for d in byday if d in WEEKDAY_CODES]
    nth_days = [d for d in byday if d not in WEEKDAY_CODES]
    if plain_days:
        words += " on " + _weekday_list([WEEKDAY_CODES.index(d) for d in plain_days])
    for code in nth_days:
        try:
            n, day = int(code[:-2]), WEEKDAY_CODES.index(code[-2:])
            words += f" on the {ORDINAL_WORDS.get(n, ordinal(n))} {calendar.day_name[day]}"
        except ValueError:
            unknown.append(f"BYDAY={code}")
    if freq == "YEARLY" and len(months) == 1 and len(monthdays) == 1 and int(monthdays[0]) > 0:
        words += f" on {int(monthdays[0])} {month_names[0]}"
    else:
        if day_texts:
            words += " on " + (
                day_texts[0] if len(day_texts) == 1 else ", ".join(day_texts[:-1]) + " and " + day_texts[-1]
            )
        if month_names:
            words += " in " + (
                month_names[0] if len(month_names) == 1 else ", ".join(month_names[:-1]) + " and " + month_names[-1]
            )
    if start is not None and not (byday or monthdays or months):
        # dateutil takes the missing day from the start date: say which.
        if freq == "WEEKLY":
            words += f" on {calendar.day_name[start.weekday()]}"
        elif freq == "MONTHLY":
            words += f" on the {ordinal(start.day)}"
        elif freq == "YEARLY":
            words += f" on {start.day} {calendar.month_name[start.month]}"
    if "COUNT" in parts:
        words += f", {parts.pop('COUNT')} times"
    if "UNTIL" in parts:
        until = parts.pop("UNTIL")
        try:
            words += f", until {date(int(until[:4]), int(until[4:6]), int(until[6:8])):%-d %B %Y}"
        except ValueError:
            unknown.append(f"UNTIL={until}")
    unknown += [f"{key}={value}" for key, value in parts.items()]
    unknown += others
    if unknown:
        words += f" (also: {'; '.join(unknown)})"
    return words
