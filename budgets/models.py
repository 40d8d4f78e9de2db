"""Budgets, scheduled transactions and exchange rates.

Budget months
-------------
A household's budget month starts on its `budget_month_start_day` (1..28, e.g. payday on the 25th).
A budget month is stored and shown by its *label*: the first day of the calendar month in which the budget
month ENDS. With start day 1, "2024-03-01" is 2024-03-01..2024-03-31. With start day 25, "2024-03-01"
("March") runs 2024-02-25..2024-03-24, and "2024-01-01" runs 2023-12-25..2024-01-24 (crossing the year end).
`budgets.months.budget_month_range(household, month)` is the one helper that turns a label into its dates;
the SQL reports use the same arithmetic (`budgets.months.label_month_sql`).

Exchange rates
--------------
`ExchangeRate(date, base, quote, rate)` means 1 `base` = `rate` `quote` on `date` (the ECB publishes EUR as
the base). Rates are global reference data, not household-owned. The rate used to convert on a day is the
latest one on or before that day; see `budgets.selectors.exchange_rate_on` and the SQL function
`budgets_exchange_rate` (migration 0002) for the direct → inverse → cross-via-EUR order.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from dateutil.rrule import rruleset, rrulestr
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from budgets.recurrence import describe as describe_recurrence
from financetracker.core.money import display_amount, display_rate
from financetracker.core.tenancy import BoundedDates, GlobalQuerySet, HouseholdOwned
from ledger.models import Account, Category, Transaction, Transfer
from ledger.models.accounts_and_transactions import amount_field, household_id_unique


class Budget(HouseholdOwned):
    """A budget line: how much a household plans to spend in one category in one budget month."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="budget_lines")
    month = models.DateField(help_text="First day of the budget month's label month (see the module docstring).")
    amount = amount_field(default=0)
    rollover = models.BooleanField(
        default=False, help_text="Carry what is left (or overspent) into the next budget month."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-month", "category_id"]
        constraints = [
            # Also the index of the budget report ("this household's lines up to this month").
            models.UniqueConstraint(
                fields=["household", "month", "category"], name="budget_household_month_category_unique"
            ),
            household_id_unique("budget"),
            models.CheckConstraint(condition=Q(month__day=1), name="budget_month_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
        ]
        indexes = [
            # The rollover chain walks one category's lines month by month.
            models.Index(fields=["household", "category", "month"], name="budget_household_cat_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.month:%B %Y}: {display_amount(self.amount, self.household.base_currency)}"


# Bills, subscriptions and salaries fall on days: a rule repeating by the hour, minute or second (FREQ=SECONDLY
# is 86,400 occurrences a day) made the upcoming list and the forecast walk millions of moments: a request that
# never answered. Refused when a schedule is saved; reading a rule stays as it was.
SUB_DAILY = re.compile(r"\b(FREQ\s*=\s*(SECONDLY|MINUTELY|HOURLY)|BY(SECOND|MINUTE|HOUR)\s*=)", re.IGNORECASE)
SUB_DAILY_MESSAGE = "A schedule repeats daily at the finest: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY, without BYHOUR, BYMINUTE or BYSECOND."


def recurrence_rule(recurrence: str, start: date) -> rruleset:
    """Parse an RFC 5545 recurrence (RRULE/RDATE/EXDATE lines, or a bare RRULE value) anchored at `start`."""
    text = recurrence.strip()
    if not text:
        raise ValidationError({"recurrence": ["Give an RFC 5545 rule such as FREQ=MONTHLY;BYMONTHDAY=1."]})
    try:
        rule = rrulestr(text, dtstart=datetime(start.year, start.month, start.day), forceset=True)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValidationError(
            {"recurrence": [f"Not a valid RFC 5545 rule ({error}); try FREQ=MONTHLY;BYMONTHDAY=1."]}
        ) from None
    assert isinstance(rule, rruleset)
    return rule


class ScheduledTransaction(HouseholdOwned):
    """A template (bill, subscription, salary, transfer) plus an RFC 5545 recurrence."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="scheduled_transactions")
    to_account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="scheduled_transfers_in",
        help_text="Set for a scheduled transfer: `amount` (positive) moves from `account` to here.",
    )
    to_amount = amount_field(null=True, blank=True, help_text="Amount received, for transfers across currencies.")
    amount = amount_field(help_text="Signed like a transaction; positive for a transfer.")
    payee = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="scheduled_transactions"
    )
    recurrence = models.TextField(help_text="RFC 5545 rule, e.g. FREQ=MONTHLY;BYMONTHDAY=1")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    occurrence_count = models.PositiveIntegerField(null=True, blank=True, help_text="Stop after this many.")
    next_due = models.DateField(null=True, blank=True, help_text="Empty once the schedule has ended.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["next_due", "id"]
        constraints = [
            household_id_unique("scheduledtransaction"),
            models.CheckConstraint(condition=~Q(amount=0), name="scheduled_amount_nonzero"),
            models.CheckConstraint(
                condition=Q(to_account__isnull=True) | Q(amount__gt=0), name="scheduled_transfer_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(to_account__isnull=True) | ~Q(to_account=models.F("account")),
                name="scheduled_transfer_two_accounts",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="scheduled_end_after_start",
            ),
        ]
        indexes = [
            # post_scheduled and the upcoming-bills list: what is due by a date.
            models.Index(fields=["household", "next_due"], name="scheduled_household_due_idx"),
            # post_scheduled across all households.
            models.Index(fields=["next_due"], name="scheduled_due_idx", condition=Q(active=True)),
        ]

    def __str__(self) -> str:
        label = self.payee or self.description or "Scheduled"
        amount = display_amount(self.amount, self.account.currency, signed=self.to_account_id is None)
        return f"{label} {amount}, {describe_recurrence(self.recurrence, self.start_date)}"

    def clean(self) -> None:
        if SUB_DAILY.search(self.recurrence or ""):
            raise ValidationError({"recurrence": [SUB_DAILY_MESSAGE]})
        if self.start_date is None:
            return  # a missing or unreadable start date is already that field's error
        recurrence_rule(self.recurrence, self.start_date)


class ScheduledOccurrence(HouseholdOwned):
    """One posted occurrence of a schedule. The unique constraint is what makes posting idempotent."""

    scheduled = models.ForeignKey(ScheduledTransaction, on_delete=models.CASCADE, related_name="occurrences")
    occurrence_date = models.DateField()
    # SET NULL: deleting the posted transaction keeps the occurrence recorded, so it is not posted again.
    transaction = models.ForeignKey(
        Transaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="scheduled_occurrences"
    )
    transfer = models.ForeignKey(
        Transfer, null=True, blank=True, on_delete=models.SET_NULL, related_name="scheduled_occurrences"
    )
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurrence_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "scheduled", "occurrence_date"],
                name="scheduledoccurrence_household_scheduled_date_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scheduled_id} on {self.occurrence_date}"


class ExchangeRateQuerySet(GlobalQuerySet):
    """Rates are global reference data: every signed-in person reads them; writes need the model permission."""


class ExchangeRate(BoundedDates):
    date = models.DateField()
    base = models.CharField(max_length=3)
    quote = models.CharField(max_length=3)
    rate = models.DecimalField(max_digits=20, decimal_places=10, help_text="1 base = rate quote.")

    objects = ExchangeRateQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "base", "quote"]
        constraints = [
            # Unique (date, base, quote), with the columns ordered for "latest rate of a pair on or before a day".
            models.UniqueConstraint(fields=["base", "quote", "date"], name="exchangerate_pair_date_unique"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
            models.CheckConstraint(condition=~Q(base=models.F("quote")), name="exchangerate_two_currencies"),
            models.CheckConstraint(
                condition=Q(base__regex=r"^[A-Z]{3}$") & Q(quote__regex=r"^[A-Z]{3}$"), name="exchangerate_iso_codes"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} 1 {self.base} = {display_rate(self.rate)} {self.quote}"
