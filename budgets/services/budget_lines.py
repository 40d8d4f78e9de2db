"""Writes to budget lines: set, update, delete, copy a month, fill from average spending. Keyword-only, typed,
validated with full_clean inside transaction.atomic; database constraints back every rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from budgets.models import Budget
from budgets.months import add_months, budget_month_range
from budgets.selectors import spending_by_category
from financetracker.core.money import parse_amount, quantize, validate_amount_for_currency
from ledger.audit import audit_record, audit_record_many, audit_updated, delete_locked, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import Category, CategoryKind, Household
from ledger.models.audit import AuditAction

# What a person may set on a budget line, in form order (ledger/editable_fields.py). A line is (category,
# month): those are set on create; change them by deleting and adding.
BUDGET_EDITABLE_FIELDS = EditableFields(
    Budget, ("category", "month", "amount", "rollover"), label="budget", create_only=("category", "month")
)


def _budget_amount(amount: Decimal | str | int, household: Household) -> Decimal:
    try:
        value = parse_amount(amount)
        validate_amount_for_currency(value, household.base_currency)
    except ValidationError as error:
        raise ValidationError({"amount": error.messages}) from None
    if value < 0:
        raise ValidationError({"amount": ["A budget is zero or more."]})
    return value


def _budget_category(category: Category, household: Household) -> None:
    if category.household_id != household.pk:
        raise ValidationError({"category": ["Choose a category of this household."]})
    if category.kind != CategoryKind.EXPENSE:
        raise ValidationError({"category": ["Budgets are for expense categories."]})


@transaction.atomic
def budget_set(
    *,
    household: Household,
    category: Category,
    month: date,
    amount: Decimal | str | int,
    rollover: bool | None = None,
) -> Budget:
    """Create or update the line of (category, month). `rollover=None` keeps an existing line's flag."""
    _budget_category(category, household)
    value = _budget_amount(amount, household)
    month = month.replace(day=1)
    line = Budget.objects.select_for_update().filter(
        household=household, category=category, month=month
    ).first() or Budget(household=household, category=category, month=month)
    before = snapshot(line) if line.pk else None
    line.amount = value
    return _save(line, before, rollover)


def _save(line: Budget, before: dict[str, Any] | None, rollover: bool | None) -> Budget:
    """Set the rollover flag unless it is None, validate, save and record the line (created when no `before`)."""
    if rollover is not None:
        line.rollover = rollover
    line.full_clean(exclude=["household", "category"], validate_unique=False)
    line.save()
    action = AuditAction.CREATE if before is None else AuditAction.UPDATE
    audit_record(action=action, instance=line, household_id=line.household_id, before=before, after=snapshot(line))
    return line


@transaction.atomic
def budget_update(*, budget: Budget, amount: Decimal | str | int | None = None, rollover: bool | None = None) -> Budget:
    line = Budget.objects.select_for_update().select_related("household").get(pk=budget.pk)
    before = snapshot(line)
    if amount is not None:
        line.amount = _budget_amount(amount, line.household)
    return _save(line, before, rollover)


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    delete_locked(budget)


def _audit_bulk(created: list[Budget], updated: list[Budget], before: dict[int, dict[str, Any]]) -> None:
    """One entry per line written by a copy or a fill, in one INSERT for the new lines."""
    audit_record_many(action=AuditAction.CREATE, instances=created)
    for line in updated:
        audit_updated(line, before=before[line.pk])


@dataclass(frozen=True)
class BudgetCopyResult:
    created: int
    updated: int
    skipped: int


@transaction.atomic
def budget_copy_month(
    *, household: Household, from_month: date, to_month: date, overwrite: bool = False
) -> BudgetCopyResult:
    """Copy a month's lines (amount and rollover) to another month; existing target lines are kept unless
    `overwrite`."""
    from_month, to_month = from_month.replace(day=1), to_month.replace(day=1)
    if from_month == to_month:
        raise ValidationError({"to_month": ["Choose a different month to copy to."]})
    source = list(Budget.objects.filter(household=household, month=from_month))
    existing = {
        line.category_id: line
        for line in Budget.objects.select_for_update().filter(household=household, month=to_month)
    }
    created: list[Budget] = []
    updated: list[Budget] = []
    before: dict[int, dict[str, Any]] = {}
    skipped = 0
    for line in source:
        target = existing.get(line.category_id)
        if target is None:
            created.append(
                Budget(
                    household=household,
                    category_id=line.category_id,
                    month=to_month,
                    amount=line.amount,
                    rollover=line.rollover,
                )
            )
        elif overwrite:
            before[target.pk] = snapshot(target)
            target.amount, target.rollover = line.amount, line.rollover
            updated.append(target)
        else:
            skipped += 1
    Budget.objects.bulk_create(created)
    Budget.objects.bulk_update(updated, ["amount", "rollover", "updated_at"])
    _audit_bulk(created, updated, before)
    return BudgetCopyResult(created=len(created), updated=len(updated), skipped=skipped)


@dataclass(frozen=True)
class BudgetFillResult(BudgetCopyResult):
    months: tuple[date, ...] = ()  # the complete past budget months the average was taken over


def complete_past_months(household: Household, month: date, count: int, *, today: date) -> list[date]:
    """Of the `count` budget months before `month`, those that have ended by `today` (payday months
    follow the household's start day): a month not over yet would count its missing days as zero."""
    candidates = [add_months(month.replace(day=1), -offset) for offset in range(count, 0, -1)]
    return [label for label in candidates if budget_month_range(household, label)[1] < today]


@transaction.atomic
def budget_fill_from_average(
    *, household: Household, month: date, months: int = 3, overwrite: bool = False, today: date | None = None
) -> BudgetFillResult:
    """Budget each expense category at its average spending over the complete budget months among the
    `months` before `month` (rounded to the base currency with `ROUNDING`; never negative). Lines already
    set are kept unless `overwrite`. The result names the months used; none complete → nothing filled."""
    if months < 1:
        raise ValidationError({"months": ["Average over at least one month."]})
    month = month.replace(day=1)
    used = complete_past_months(household, month, months, today=today or timezone.localdate())
    averages: dict[int, Decimal] = {}
    if used:
        # Complete months are consecutive and end before `month`: one range covers them.
        report = spending_by_category(household, used[0], used[-1])
        for line in report.categories:
            for item in (line, *line.children):
                # A parent's own spending only: its children get their own lines.
                own = item.spent - sum((child.spent for child in item.children), Decimal(0))
                if own > 0:
                    averages[item.category_id] = quantize(own / len(used), household.base_currency)
    existing = {
        line.category_id: line for line in Budget.objects.select_for_update().filter(household=household, month=month)
    }
    created: list[Budget] = []
    updated: list[Budget] = []
    before: dict[int, dict[str, Any]] = {}
    skipped = 0
    for category_id, amount in averages.items():
        target = existing.get(category_id)
        if target is None:
            created.append(Budget(household=household, category_id=category_id, month=month, amount=amount))
        elif overwrite:
            before[target.pk] = snapshot(target)
            target.amount = amount
            updated.append(target)
        else:
            skipped += 1
    Budget.objects.bulk_create(created)
    Budget.objects.bulk_update(updated, ["amount", "updated_at"])
    _audit_bulk(created, updated, before)
    return BudgetFillResult(created=len(created), updated=len(updated), skipped=skipped, months=tuple(used))
