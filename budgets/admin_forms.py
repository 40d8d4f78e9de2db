"""The scheduled transaction's form: a recurrence chosen in words, stored as RFC 5545 text.

A rule the choices cannot express (set up through the API, several days a month, exceptions…) is shown in
words and kept exactly as it is unless the person picks a new frequency.
"""

from __future__ import annotations

import calendar
from typing import Any

from django import forms
from unfold import widgets as unfold_widgets

from budgets.models import ExchangeRate, ScheduledTransaction
from budgets.recurrence import SimpleRule, describe, parse_simple
from budgets.services.rates import EXCHANGE_RATE_EDITABLE_FIELDS
from budgets.services.schedules import SCHEDULED_EDITABLE_FIELDS
from ledger.admin.scoping import ScopedModelForm

KEEP = "keep"
FREQUENCY_CHOICES = [
    ("DAILY", "Daily"),
    ("WEEKLY", "Weekly"),
    ("MONTHLY", "Monthly"),
    ("YEARLY", "Yearly"),
]
WEEKDAY_CHOICES = [(str(i), calendar.day_name[i]) for i in range(7)]
MONTH_CHOICES = [("", "—"), *((str(i), calendar.month_name[i]) for i in range(1, 13))]
MONTHLY_CHOICES = [("day", "On a day of the month"), ("last", "On the last day"), ("weekday", "On a weekday")]
NTH_CHOICES = [("1", "first"), ("2", "second"), ("3", "third"), ("4", "fourth"), ("-1", "last")]


def _optional_select(choices: list[tuple[str, str]], **options: Any) -> forms.ChoiceField:
    """A choice the person may leave empty, in the admin theme's select."""
    return forms.ChoiceField(choices=choices, required=False, widget=unfold_widgets.UnfoldAdminSelectWidget, **options)


def _optional_number(**options: Any) -> forms.IntegerField:
    """A whole number the person may leave empty, in the admin theme's number input."""
    return forms.IntegerField(required=False, widget=unfold_widgets.UnfoldAdminIntegerFieldWidget, **options)


class ScheduledTransactionForm(ScopedModelForm):
    frequency = _optional_select(FREQUENCY_CHOICES, help_text="How often it repeats.")
    interval = _optional_number(
        min_value=1,
        max_value=999,
        initial=1,
        help_text="Every how many days, weeks, months or years (1: each one).",
    )
    weekdays = forms.MultipleChoiceField(
        choices=WEEKDAY_CHOICES,
        required=False,
        widget=unfold_widgets.UnfoldAdminCheckboxSelectMultipleWidget,
        help_text="Weekly: on which days (none: the start date's weekday).",
    )
    monthly_on = _optional_select(MONTHLY_CHOICES, label="Monthly")
    month_day = _optional_number(
        min_value=1,
        max_value=31,
        help_text="Monthly or yearly: the day of the month (empty: the start date's). Short months skip a 31st.",
    )
    nth = _optional_select(NTH_CHOICES, label="Which")
    nth_weekday = _optional_select(WEEKDAY_CHOICES, label="Weekday")
    month = _optional_select(MONTH_CHOICES, help_text="Yearly: the month (empty: the start date's).")

    class Meta:
        model = ScheduledTransaction
        fields = SCHEDULED_EDITABLE_FIELDS.admin_fields
        # The rule itself travels as a hidden field: what a custom rule keeps when nothing is chosen.
        widgets = {"recurrence": forms.HiddenInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        text = self.instance.recurrence if self.instance.pk else ""
        # Kept apart: validation copies the new rule onto the instance before the admin asks what changed.
        self.stored_recurrence = text or None
        simple = parse_simple(text) if text else SimpleRule("MONTHLY")
        if "recurrence" in self.fields:
            self.fields["recurrence"].required = False
            self.fields["recurrence"].help_text = ""
        if simple is None:
            # Not expressible: "keep" leaves the stored rule untouched.
            frequency = self.fields["frequency"]
            assert isinstance(frequency, forms.ChoiceField)  # declared above
            frequency.choices = [
                (KEEP, f"Keep: {describe(text, self.instance.start_date)}"),
                *FREQUENCY_CHOICES,
            ]
            self.initial.setdefault("frequency", KEEP)
            return
        self.initial.setdefault("frequency", simple.freq)
        self.initial.setdefault("interval", simple.interval)
        self.initial.setdefault("weekdays", [str(d) for d in simple.weekdays])
        if simple.nth is not None:
            self.initial.setdefault("monthly_on", "weekday")
            self.initial.setdefault("nth", str(simple.nth))
            self.initial.setdefault("nth_weekday", str(simple.nth_weekday))
        elif simple.month_day == -1:
            self.initial.setdefault("monthly_on", "last")
        else:
            self.initial.setdefault("monthly_on", "day")
            self.initial.setdefault("month_day", simple.month_day)
        self.initial.setdefault("month", str(simple.month or ""))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        frequency = cleaned.get("frequency")
        if frequency == KEEP and self.stored_recurrence:
            cleaned["recurrence"] = self.stored_recurrence  # byte for byte, whatever the browser sent back
            return cleaned
        if not frequency:
            # No choice made (a custom rule kept, or a client posting the rule itself): the text as given.
            if not (cleaned.get("recurrence") or "").strip():
                self.add_error("frequency", "Choose how often it repeats.")
            return cleaned
        cleaned["recurrence"] = self.rule_from_choices(cleaned).to_rrule()
        return cleaned

    @property
    def changed_data(self) -> list[str]:
        # The rule built from the choices differs from the hidden field's posted text: it changed.
        changed = list(super().changed_data)
        stored = self.stored_recurrence
        built = getattr(self, "cleaned_data", {}).get("recurrence")
        if "recurrence" not in changed and "recurrence" in self.fields and built is not None and built != stored:
            changed.append("recurrence")
        return changed

    @staticmethod
    def rule_from_choices(cleaned: dict[str, Any]) -> SimpleRule:
        frequency = cleaned["frequency"]
        interval = cleaned.get("interval") or 1
        if frequency == "WEEKLY":
            return SimpleRule(
                frequency, interval, weekdays=tuple(sorted(int(d) for d in cleaned.get("weekdays") or []))
            )
        if frequency == "MONTHLY":
            mode = cleaned.get("monthly_on") or "day"
            if mode == "last":
                return SimpleRule(frequency, interval, month_day=-1)
            if mode == "weekday":
                return SimpleRule(
                    frequency,
                    interval,
                    nth=int(cleaned.get("nth") or 1),
                    nth_weekday=int(cleaned.get("nth_weekday") or 0),
                )
            return SimpleRule(frequency, interval, month_day=cleaned.get("month_day"))
        if frequency == "YEARLY":
            month = int(cleaned["month"]) if cleaned.get("month") else None
            day = cleaned.get("month_day")
            if (month is None) != (day is None):
                start = cleaned.get("start_date")
                month = month or (start.month if start else 1)
                day = day or (start.day if start else 1)
            return SimpleRule(frequency, interval, month=month, month_day=day)
        return SimpleRule(frequency, interval)


class ExchangeRateForm(forms.ModelForm):
    """A stored rate (ten places) shown as written: 1.0852300000 reads 1.08523."""

    class Meta:
        model = ExchangeRate
        fields = EXCHANGE_RATE_EDITABLE_FIELDS.admin_fields

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.rate is not None:
            self.initial["rate"] = f"{self.instance.rate.normalize():f}"
