"""An independent reference model of the books' figures, written from PRODUCT.md and the README's
"Rounding and totals", not from the SQL. Pure Python, no Django: plain data in, plain figures out.

Meaning, as the product states it:
- a balance as of a day is the opening balance (from the opening date on) plus every transaction dated
  on or before the day; transfers are two transactions and count like any other;
- a budget month labelled M starts on the household's start day: day 1 → the calendar month M; day d > 1
  → day d of the month before M up to day d-1 of M ("March" with payday 25 is 25 Feb..24 Mar);
- the amounts counted in reports are each split line under its own category, or a whole unsplit
  transaction under its category; transfers never count;
- a foreign amount is converted at the latest rate on or before its date: the direct pair or its
  inverse, whichever is more recent (the direct one on a tie), else a cross rate through EUR; it is then
  rounded to the base currency's places, halves away from zero; an amount without a rate is left out of
  every figure and reported as missing;
- spending is minus the sum of amounts in expense categories (a refund reduces it); income is the sum of
  amounts in income categories; uncategorised amounts count in cash flow by their sign;
- a budget line with rollover carries what is left (budgeted + carried in - spent, negative when
  overspent) into the next month;
- every total is the sum of the parts shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import islice
from typing import Any

from dateutil.rrule import rrulestr

ZERO = Decimal(0)
PLACES = {"EUR": 2, "USD": 2, "GBP": 2, "JPY": 0, "KWD": 3, "CHF": 2}


def round_exact(value: Fraction, currency: str) -> Decimal:
    """An exact rational amount rounded to the currency's places, halves away from zero (ROUND_HALF_UP)."""
    scale = 10 ** PLACES[currency]
    units = abs(value) * scale
    whole = units.numerator // units.denominator
    if units - whole >= Fraction(1, 2):
        whole += 1
    return (Decimal(whole if value >= 0 else -whole) / scale).quantize(Decimal(1).scaleb(-PLACES[currency]))


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_end(month: date) -> date:
    return add_months(month, 1) - timedelta(days=1)


@dataclass
class Account:
    id: int
    currency: str
    opening_balance: Decimal
    opening_date: date
    archived: bool = False


@dataclass
class Category:
    id: int
    name: str
    kind: str  # "income" | "expense"
    parent_id: int | None = None


@dataclass
class Txn:
    id: int
    account_id: int
    date: date
    amount: Decimal
    category_id: int | None = None
    splits: list[tuple[int, Decimal]] = field(default_factory=list)
    transfer_id: int | None = None
    status: str = "cleared"


@dataclass(frozen=True)
class Rate:
    date: date
    base: str
    quote: str
    rate: Decimal  # 1 base = rate quote


@dataclass
class Line:
    category_id: int
    month: date
    amount: Decimal
    rollover: bool


@dataclass
class Schedule:
    account_id: int
    amount: Decimal
    recurrence: str
    start_date: date
    end_date: date | None = None
    count: int | None = None
    category_id: int | None = None
    to_account_id: int | None = None
    to_amount: Decimal | None = None


@dataclass
class Books:
    base: str
    start_day: int
    accounts: dict[int, Account] = field(default_factory=dict)
    categories: dict[int, Category] = field(default_factory=dict)
    txns: dict[int, Txn] = field(default_factory=dict)
    rates: list[Rate] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    # --- months ------------------------------------------------------------------------------------------

    def month_range(self, label: date) -> tuple[date, date]:
        if self.start_day == 1:
            return label, month_end(label)
        return add_months(label, -1).replace(day=self.start_day), label.replace(day=self.start_day) - timedelta(1)

    def label_of(self, day: date) -> date:
        label = day.replace(day=1)
        return add_months(label, 1) if self.start_day > 1 and day.day >= self.start_day else label

    # --- balances -----------------------------------------------------------------------------------------

    def balance(self, account_id: int, as_of: date | None = None) -> Decimal:
        account = self.accounts[account_id]
        rows = [
            t.amount for t in self.txns.values() if t.account_id == account_id and (as_of is None or t.date <= as_of)
        ]
        opening = account.opening_balance if as_of is None or account.opening_date <= as_of else ZERO
        return opening + sum(rows, ZERO)

    # --- rates ---------------------------------------------------------------------------------------------

    # A rate is an exact fraction: 1/rate for an inverse pair and the product through EUR for a cross rate
    # are exact here, and a converted amount is rounded once, to the base currency's places.

    def _pair(self, a: str, b: str, day: date) -> Fraction | None:
        candidates: list[tuple[date, int, Fraction]] = []
        direct = [r for r in self.rates if r.base == a and r.quote == b and r.date <= day]
        inverse = [r for r in self.rates if r.base == b and r.quote == a and r.date <= day]
        if direct:
            latest = max(direct, key=lambda r: r.date)
            candidates.append((latest.date, 0, Fraction(latest.rate)))
        if inverse:
            latest = max(inverse, key=lambda r: r.date)
            candidates.append((latest.date, 1, 1 / Fraction(latest.rate)))
        if not candidates:
            return None
        best = max(candidates, key=lambda c: (c[0], -c[1]))
        return best[2]

    def rate(self, currency: str, day: date) -> Fraction | None:
        if currency == self.base:
            return Fraction(1)
        found = self._pair(currency, self.base, day)
        if found is None and "EUR" not in (currency, self.base):
            first, second = self._pair(currency, "EUR", day), self._pair("EUR", self.base, day)
            if first is not None and second is not None:
                found = first * second
        return found

    def convert(self, amount: Decimal, currency: str, day: date) -> Decimal | None:
        rate = self.rate(currency, day)
        if rate is None:
            return None
        return round_exact(Fraction(amount) * rate, self.base)

    # --- the counted amounts ----------------------------------------------------------------------------

    def entries(self, start: date, end: date) -> list[tuple[date, int | None, Decimal, str, Decimal | None]]:
        """(date, category, amount, currency, converted or None) for each counted amount in [start, end]."""
        out: list[tuple[date, int | None, Decimal, str, Decimal | None]] = []
        for t in self.txns.values():
            if t.transfer_id is not None or not start <= t.date <= end:
                continue
            currency = self.accounts[t.account_id].currency
            parts: list[tuple[int | None, Decimal]] = [*t.splits] or [(t.category_id, t.amount)]
            for category_id, amount in parts:
                out.append((t.date, category_id, amount, currency, self.convert(amount, currency, t.date)))
        return out

    def _kind(self, category_id: int | None) -> str | None:
        return None if category_id is None else self.categories[category_id].kind

    @staticmethod
    def missing(entries: list[Any]) -> list[dict[str, Any]]:
        totals: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        for day, _c, amount, currency, converted in entries:
            if converted is None:
                totals[(day, currency)] += amount
        return [
            {"currency": currency, "date": day.isoformat(), "amount": amount}
            for (day, currency), amount in sorted(totals.items())
        ]

    # --- cash flow ------------------------------------------------------------------------------------

    def cashflow(self, first: date, last: date) -> dict[str, Any]:
        months: list[dict[str, Any]] = []
        label = first
        all_entries = []
        while label <= last:
            start, end = self.month_range(label)
            entries = self.entries(start, end)
            all_entries += entries
            income = expense = ZERO
            for _d, category_id, amount, _cur, converted in entries:
                if converted is None:
                    continue
                kind = self._kind(category_id)
                if kind == "income" or (kind is None and amount > 0):
                    income += converted
                elif kind == "expense" or (kind is None and amount < 0):
                    expense -= converted
            months.append({"month": label, "income": income, "expense": expense, "net": income - expense})
            label = add_months(label, 1)
        totals = {key: sum((m[key] for m in months), ZERO) for key in ("income", "expense", "net")}
        return {"months": months, "totals": totals, "missing_rates": self.missing(all_entries)}

    # --- spending -----------------------------------------------------------------------------------

    def spending(self, first: date, last: date) -> dict[str, Any]:
        start, end = self.month_range(first)[0], self.month_range(last)[1]
        entries = self.entries(start, end)
        own: dict[int, Decimal] = defaultdict(Decimal)
        for _d, category_id, _amount, _cur, converted in entries:
            if converted is not None and category_id is not None and self._kind(category_id) == "expense":
                own[category_id] -= converted
        expense = [c for c in self.categories.values() if c.kind == "expense"]
        tops: list[dict[str, Any]] = []
        for parent in (c for c in expense if c.parent_id is None):
            children = sorted((c for c in expense if c.parent_id == parent.id), key=lambda c: (c.name, c.id))
            child_lines: list[dict[str, Any]] = [{"category": c.id, "spent": own[c.id]} for c in children]
            spent = own[parent.id] + sum((c["spent"] for c in child_lines), ZERO)
            tops.append({"category": parent.id, "name": parent.name, "spent": spent, "children": child_lines})
        tops.sort(key=lambda line: (-line["spent"], line["name"]))
        return {
            "categories": tops,
            "total": sum((line["spent"] for line in tops), ZERO),
            "missing_rates": self.missing(entries),
        }

    # --- budget report --------------------------------------------------------------------------------

    def _line(self, category_id: int, month: date) -> Line | None:
        return next((x for x in self.lines if x.category_id == category_id and x.month == month), None)

    def _spent(self, category_id: int, month: date) -> tuple[Decimal, bool]:
        """Own spending of one category in one budget month, and whether an amount lacked a rate."""
        spent, missing = ZERO, False
        for _d, c, _amount, _cur, converted in self.entries(*self.month_range(month)):
            if c == category_id:
                if converted is None:
                    missing = True
                else:
                    spent -= converted
        return spent, missing

    def _carried(self, category_id: int, month: date) -> tuple[Decimal, bool, list[date]]:
        """What the previous month's rollover line carries in (recursively), its missing flag, the months."""
        previous = add_months(month, -1)
        line = self._line(category_id, previous)
        if line is None or not line.rollover:
            return ZERO, False, []
        carried_in, missing_before, months = self._carried(category_id, previous)
        spent, missing = self._spent(category_id, previous)
        return line.amount + carried_in - spent, missing or missing_before, [*months, previous]

    def budget_report(self, month: date) -> dict[str, Any]:
        start, end = self.month_range(month)
        lines: dict[int, dict[str, Any]] = {}
        carry_months: dict[int, list[date]] = {}
        for c in self.categories.values():
            line = self._line(c.id, month)
            spent, missing = self._spent(c.id, month)
            carried, carried_missing, months = self._carried(c.id, month)
            carry_months[c.id] = months
            lines[c.id] = {
                "category": c.id,
                "parent": c.parent_id,
                "kind": c.kind,
                "budgeted": line.amount if line else ZERO,
                "spent": spent,
                "carried_over": carried,
                "rollover": line.rollover if line else False,
                "missing_rate": missing or carried_missing,
            }

        def roll_up(kind: str) -> list[dict[str, Any]]:
            tops = []
            for top in (x for x in lines.values() if x["kind"] == kind and x["parent"] is None):
                children = sorted(
                    (x for x in lines.values() if x["parent"] == top["category"]),
                    key=lambda x: (self.categories[x["category"]].name, x["category"]),
                )
                rolled = dict(top)
                for key in ("budgeted", "spent", "carried_over"):
                    rolled[key] = top[key] + sum((child[key] for child in children), ZERO)
                rolled["missing_rate"] = top["missing_rate"] or any(child["missing_rate"] for child in children)
                rolled["children"] = children
                tops.append(rolled)
            return sorted(tops, key=lambda x: (self.categories[x["category"]].name, x["category"]))

        expense, income_lines = roll_up("expense"), roll_up("income")
        for line in [*expense, *(child for top in expense for child in top["children"])]:
            line["available"] = line["budgeted"] + line["carried_over"] - line["spent"]
        income = sum((-line["spent"] for line in income_lines), ZERO)
        budgeted = sum((line["budgeted"] for line in expense), ZERO)
        # The amounts left out of a figure shown: this month's, and the carried months' of carried lines.
        missing_entries = list(self.entries(start, end))
        for category_id, months in carry_months.items():
            for carried_month in months:
                missing_entries += [e for e in self.entries(*self.month_range(carried_month)) if e[1] == category_id]
        uncategorized = sum(
            (e[4] for e in self.entries(start, end) if e[1] is None and e[4] is not None),
            ZERO,
        )
        return {
            "start": start,
            "end": end,
            "categories": expense,
            "income_categories": [{"category": x["category"], "received": -x["spent"]} for x in income_lines],
            "totals": {
                "budgeted": budgeted,
                "spent": sum((line["spent"] for line in expense), ZERO),
                "carried_over": sum((line["carried_over"] for line in expense), ZERO),
                "available": sum((line["available"] for line in expense), ZERO),
                "income": income,
                "left_to_budget": income - budgeted,
                "uncategorized": uncategorized,
            },
            "missing_rates": self.missing(missing_entries),
        }

    # --- net worth ---------------------------------------------------------------------------------------

    def net_worth(self, first: date, last: date) -> dict[str, Any]:
        months = []
        missing = []
        label = first.replace(day=1)
        while label <= last:
            end = month_end(label)
            accounts: list[dict[str, Any]] = []
            for account in sorted(self.accounts.values(), key=lambda a: a.id):
                balance = self.balance(account.id, end)
                converted = self.convert(balance, account.currency, end)
                if converted is None:
                    missing.append({"currency": account.currency, "date": end.isoformat(), "amount": balance})
                accounts.append({"account": account.id, "balance": balance, "converted": converted})
            total = sum((a["converted"] for a in accounts if a["converted"] is not None), ZERO)
            months.append({"month": label, "end": end, "accounts": accounts, "total": total})
            label = add_months(label, 1)
        missing.sort(key=lambda m: (m["date"], m["currency"]))
        return {"months": months, "missing_rates": missing}


# --- schedules ------------------------------------------------------------------------------------------


def occurrences(schedule: Schedule, *, after: date | None, until: date) -> list[date]:
    """The schedule's RFC 5545 dates in (after, until], within its end date and occurrence count."""
    start = datetime(schedule.start_date.year, schedule.start_date.month, schedule.start_date.day)
    rule = rrulestr(schedule.recurrence, dtstart=start, forceset=True)
    dates: Iterator[date] = (moment.date() for moment in rule)
    if schedule.count is not None:
        dates = islice(dates, schedule.count)
    out = []
    for day in dates:
        if day > until or (schedule.end_date is not None and day > schedule.end_date):
            break
        if after is None or day > after:
            out.append(day)
    return out


def forecast(
    books: Books, schedules: list[Schedule], *, posted_until: date, today: date, months: int
) -> dict[str, Any]:
    """Each open account's current balance, then its projected balance at each calendar month's end from
    the occurrences not yet posted (those after `posted_until`); overdue ones land in the first month."""
    month_list = [add_months(today.replace(day=1), offset) for offset in range(months)]
    horizon = month_end(month_list[-1])
    deltas: dict[tuple[int, date], Decimal] = defaultdict(Decimal)
    for schedule in schedules:
        for day in occurrences(schedule, after=posted_until, until=horizon):
            month = max(day.replace(day=1), month_list[0])
            if schedule.to_account_id is None:
                deltas[(schedule.account_id, month)] += schedule.amount
            else:
                deltas[(schedule.account_id, month)] -= schedule.amount
                received = schedule.to_amount if schedule.to_amount is not None else schedule.amount
                deltas[(schedule.to_account_id, month)] += received
    out = {}
    for account in books.accounts.values():
        if account.archived:
            continue
        running = books.balance(account.id)
        projection = []
        for month in month_list:
            running += deltas[(account.id, month)]
            projection.append(running)
        out[account.id] = {"balance": books.balance(account.id), "projection": projection}
    return {"months": month_list, "accounts": out}
