"""Writes to scheduled transactions, and posting their due occurrences exactly once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from budgets.models import ScheduledOccurrence, ScheduledTransaction
from budgets.selectors import scheduled_next_due, scheduled_occurrences
from financetracker.core import metrics
from financetracker.core.errors import ConflictError
from financetracker.core.money import parse_amount, validate_amount_for_currency
from ledger.audit import audit_created, audit_updated, delete_locked, snapshot
from ledger.editable_fields import EditableFields
from ledger.models import Account, Household
from ledger.services.transactions import transaction_create, transfer_create

logger = logging.getLogger(__name__)

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
    delete_locked(scheduled)


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
    if template.to_account is not None:  # read with the template (select_related)
        transfer = transfer_create(
            from_account=template.account,
            to_account=template.to_account,
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
