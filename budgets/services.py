"""Writes: budget lines, scheduled transactions and their posting, exchange rates. Keyword-only, typed,
validated with full_clean inside transaction.atomic; database constraints back every rule."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from budgets.models import Budget, ExchangeRate, ScheduledOccurrence, ScheduledTransaction
from budgets.months import add_months, budget_month_range
from budgets.selectors import scheduled_next_due, scheduled_occurrences, spending_by_category
from ledger import metrics
from ledger.audit import audit_created, audit_deleted, audit_record, audit_record_many, audit_updated, snapshot
from ledger.editable_fields import EditableFields
from ledger.errors import ConflictError
from ledger.models import Account, Category, CategoryKind, Household
from ledger.models.audit import AuditAction
from ledger.money import parse_amount, quantize, validate_amount_for_currency, validate_currency
from ledger.services.transactions import transaction_create, transfer_create

logger = logging.getLogger(__name__)

# --- Budget lines -------------------------------------------------------------------------------------------

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
    if rollover is not None:
        line.rollover = rollover
    line.full_clean(exclude=["household", "category"], validate_unique=False)
    line.save()
    _audit_saved(line, before)
    return line


def _audit_saved(line: Budget, before: dict[str, Any] | None) -> None:
    action = AuditAction.CREATE if before is None else AuditAction.UPDATE
    audit_record(action=action, instance=line, household_id=line.household_id, before=before, after=snapshot(line))


@transaction.atomic
def budget_update(*, budget: Budget, amount: Decimal | str | int | None = None, rollover: bool | None = None) -> Budget:
    line = Budget.objects.select_for_update().select_related("household").get(pk=budget.pk)
    before = snapshot(line)
    if amount is not None:
        line.amount = _budget_amount(amount, line.household)
    if rollover is not None:
        line.rollover = rollover
    line.full_clean(exclude=["household", "category"], validate_unique=False)
    line.save()
    _audit_saved(line, before)
    return line


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    line = Budget.objects.select_for_update().filter(pk=budget.pk).first()
    if line is None:
        return
    audit_deleted(line)
    line.delete()


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


# --- Scheduled transactions -------------------------------------------------------------------------------

# What a person may set on a schedule, in form order (ledger/editable_fields.py).
SCHEDULED_EDITABLE_FIELDS = EditableFields(
    ScheduledTransaction,
    (
        "account",
        "to_account",
        "amount",
        "to_amount",
        "payee",
        "description",
        "category",
        "recurrence",
        "start_date",
        "end_date",
        "occurrence_count",
        "active",
    ),
)


def _validate_scheduled(scheduled: ScheduledTransaction) -> None:
    account: Account = scheduled.account
    errors: dict[str, list[str]] = {}
    if account.household_id != scheduled.household_id:
        errors["account"] = ["Choose an account of this household."]
    if scheduled.category is not None and scheduled.category.household_id != scheduled.household_id:
        errors["category"] = ["Choose a category of this household."]
    to_account = scheduled.to_account
    if to_account is not None:
        if to_account.household_id != scheduled.household_id:
            errors["to_account"] = ["Choose an account of this household."]
        elif to_account.pk == account.pk:
            errors["to_account"] = ["Choose two different accounts."]
    try:
        scheduled.amount = parse_amount(scheduled.amount)
        validate_amount_for_currency(scheduled.amount, account.currency)
        if scheduled.amount == 0:
            errors["amount"] = ["The amount cannot be zero."]
        elif to_account is not None and scheduled.amount < 0:
            errors["amount"] = ["A scheduled transfer moves a positive amount."]
    except ValidationError as error:
        errors["amount"] = error.messages
    if scheduled.to_amount is not None and to_account is not None:
        try:
            scheduled.to_amount = parse_amount(scheduled.to_amount)
            validate_amount_for_currency(scheduled.to_amount, to_account.currency)
        except ValidationError as error:
            errors["to_amount"] = error.messages
    if to_account is not None and to_account.currency != account.currency and scheduled.to_amount is None:
        errors["to_amount"] = ["The accounts' currencies differ: give the amount received."]
    if errors:
        raise ValidationError(errors)
    scheduled.full_clean(exclude=["household", "account", "to_account", "category"])


@transaction.atomic
def scheduled_create(*, household: Household, **fields: Any) -> ScheduledTransaction:
    SCHEDULED_EDITABLE_FIELDS.reject_unknown(fields)
    scheduled = ScheduledTransaction(household=household, **fields)
    _validate_scheduled(scheduled)
    scheduled.next_due = scheduled_next_due(scheduled, after=None)
    scheduled.save()
    audit_created(scheduled)
    return scheduled


@transaction.atomic
def scheduled_update(*, scheduled: ScheduledTransaction, **fields: Any) -> ScheduledTransaction:
    SCHEDULED_EDITABLE_FIELDS.reject_unknown(fields)
    locked = ScheduledTransaction.objects.select_for_update().get(pk=scheduled.pk)
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(locked, name, value)
    _validate_scheduled(locked)
    if {"recurrence", "start_date", "end_date", "occurrence_count"} & set(fields):
        # Resume after the last posted occurrence, so a changed rule never re-posts the past.
        last = locked.occurrences.order_by("-occurrence_date").values_list("occurrence_date", flat=True).first()
        locked.next_due = scheduled_next_due(locked, after=last)
    locked.save()
    audit_updated(locked, before=before)
    return locked


@transaction.atomic
def scheduled_delete(*, scheduled: ScheduledTransaction) -> None:
    """Posted transactions stay; only the schedule and its posting records go."""
    locked = ScheduledTransaction.objects.select_for_update().filter(pk=scheduled.pk).first()
    if locked is None:
        return
    audit_deleted(locked)
    locked.delete()


@dataclass(frozen=True)
class PostingResult:
    posted: int
    already_posted: int
    locked_elsewhere: int
    failed: dict[int, str] = field(default_factory=dict)  # schedule id → why it could not be posted


def _post_occurrence(template: ScheduledTransaction, day: date) -> bool:
    """Claim the occurrence, then post it, in one savepoint: False if it was posted before."""
    with connection.cursor() as cursor:
        # The unique constraint decides: a second poster (re-run or another process) inserts nothing.
        cursor.execute(
            "INSERT INTO budgets_scheduledoccurrence (household_id, scheduled_id, occurrence_date, posted_at) "
            "VALUES (%s, %s, %s, now()) ON CONFLICT (household_id, scheduled_id, occurrence_date) DO NOTHING "
            "RETURNING id",
            [template.household_id, template.pk, day],
        )
        claimed = cursor.fetchone()
    if claimed is None:
        return False
    if template.to_account_id is not None:
        transfer = transfer_create(
            from_account=template.account,
            to_account=template.to_account,  # type: ignore[arg-type]
            date=day,
            amount=template.amount,
            to_amount=template.to_amount,
            description=template.description or template.payee,
        )
        ScheduledOccurrence.objects.filter(pk=claimed[0]).update(transfer=transfer)
    else:
        tx = transaction_create(
            account=template.account,
            date=day,
            amount=template.amount,
            payee=template.payee,
            description=template.description,
            category=template.category,
        )
        ScheduledOccurrence.objects.filter(pk=claimed[0]).update(transaction=tx)
        metrics.transactions_created.labels(source="scheduled").inc()
    return True


def scheduled_post_due(*, on_date: date, households: Iterable[int] | None = None) -> PostingResult:
    """Post every occurrence due up to `on_date`. Each template is posted in its own database transaction,
    locked with SKIP LOCKED so concurrent runs share the work; the occurrence table's unique constraint
    guarantees no occurrence is ever posted twice."""
    due = ScheduledTransaction.objects.filter(active=True, next_due__isnull=False, next_due__lte=on_date)
    if households is not None:
        due = due.filter(household_id__in=list(households))
    posted = already = locked_elsewhere = 0
    failed: dict[int, str] = {}
    for template_id in due.order_by("next_due", "id").values_list("pk", flat=True):
        try:
            outcome = _post_template(template_id, on_date)
        except (ValidationError, ConflictError) as error:
            # One broken schedule (say, an amount its account's currency refuses) must not stop the others.
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else error.message
            failed[template_id] = message
            metrics.scheduled_postings.labels(outcome="failed").inc()
            logger.warning("scheduled transaction %s not posted: %s", template_id, message)
            continue
        if outcome is None:
            locked_elsewhere += 1
            metrics.scheduled_postings.labels(outcome="skipped_locked").inc()
            continue
        posted += outcome[0]
        already += outcome[1]
        # Counted once committed, so a rolled-back attempt is never reported as posted.
        metrics.scheduled_postings.labels(outcome="posted").inc(outcome[0])
        metrics.scheduled_postings.labels(outcome="already_posted").inc(outcome[1])
    return PostingResult(posted=posted, already_posted=already, locked_elsewhere=locked_elsewhere, failed=failed)


@transaction.atomic
def _post_template(template_id: int, on_date: date) -> tuple[int, int] | None:
    """Post one schedule's due occurrences in one database transaction; None when another run holds it."""
    template = (
        ScheduledTransaction.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("account", "to_account", "category")
        .filter(pk=template_id, active=True, next_due__isnull=False, next_due__lte=on_date)
        .first()
    )
    if template is None:
        return None
    posted = already = 0
    assert template.next_due is not None
    for day in scheduled_occurrences(template, after=template.next_due - timedelta(days=1), until=on_date):
        if _post_occurrence(template, day):
            posted += 1
        else:
            already += 1
    template.next_due = scheduled_next_due(template, after=on_date)
    template.save(update_fields=["next_due", "updated_at"])
    return posted, already


# --- Exchange rates -------------------------------------------------------------------------------------

# What may be set on a rate, in form order (ledger/editable_fields.py): global reference data, no household.
EXCHANGE_RATE_EDITABLE_FIELDS = EditableFields(ExchangeRate, ("date", "base", "quote", "rate"), owner=None)


@dataclass(frozen=True)
class RateRow:
    date: date
    base: str
    quote: str
    rate: Decimal


def exchange_rates_upsert(*, rows: Iterable[RateRow], batch_size: int = 5000) -> int:
    """Insert or update rates in bulk (ON CONFLICT DO UPDATE): importing the same file twice changes nothing."""
    count = 0
    batch: list[ExchangeRate] = []
    with transaction.atomic():
        for row in rows:
            validate_currency(row.base)
            validate_currency(row.quote)
            if row.rate <= 0:
                raise ValidationError(f"{row.date} {row.base}/{row.quote}: a rate must be positive, got {row.rate}.")
            batch.append(ExchangeRate(date=row.date, base=row.base, quote=row.quote, rate=row.rate))
            if len(batch) >= batch_size:
                count += _upsert(batch)
                batch = []
        count += _upsert(batch)
    return count


def _upsert(batch: list[ExchangeRate]) -> int:
    if not batch:
        return 0
    # One row per key within a statement: ON CONFLICT cannot touch a row twice.
    unique = {(rate.base, rate.quote, rate.date): rate for rate in batch}
    ExchangeRate.objects.bulk_create(
        list(unique.values()),
        update_conflicts=True,
        unique_fields=["base", "quote", "date"],
        update_fields=["rate"],
    )
    return len(unique)


@transaction.atomic
def exchange_rate_create(*, date: date, base: str, quote: str, rate: Decimal | str) -> ExchangeRate:
    value = parse_amount(rate) if not isinstance(rate, Decimal) else rate
    obj = ExchangeRate(date=date, base=base, quote=quote, rate=value)
    for code in (base, quote):
        validate_currency(code)
    obj.full_clean()
    obj.save()
    return obj


@transaction.atomic
def exchange_rate_update(*, exchange_rate: ExchangeRate, **fields: Any) -> ExchangeRate:
    EXCHANGE_RATE_EDITABLE_FIELDS.reject_unknown(fields)
    for name, value in fields.items():
        setattr(exchange_rate, name, value)
    validate_currency(exchange_rate.base)
    validate_currency(exchange_rate.quote)
    exchange_rate.full_clean()
    exchange_rate.save()
    return exchange_rate
