"""Transactions with their splits and tags, transfers and reconciliation."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Sum

from financetracker.core.errors import ConflictError, ReconciledTransactionError
from financetracker.core.metrics import transactions_created
from financetracker.core.money import format_amount, parse_amount, validate_amount_for_currency
from financetracker.core.request_context import current_channel
from ledger.audit import (
    audit_created,
    audit_deleted,
    audit_record,
    audit_record_bulk_update,
    audit_record_many,
    audit_updated,
    bulk_update_rows,
    snapshot,
)
from ledger.editable_fields import EditableFields
from ledger.models import (
    Account,
    Category,
    Reconciliation,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    TransactionTag,
    Transfer,
    User,
)
from ledger.models.audit import AuditAction

# What a person may set on a transaction, in form order (ledger/editable_fields.py); split lines and tags are
# rows of their own (keyword arguments of the services, inlines in the admin).
TRANSACTION_EDITABLE_FIELDS = EditableFields(
    Transaction,
    ("account", "date", "amount", "payee", "description", "category", "splits", "tags", "status"),
    lines=("splits", "tags"),
    owner=None,  # the account's household
)
# A transfer is created as a pair, then each side is edited as a transaction.
TRANSFER_EDITABLE_FIELDS = EditableFields(
    Transfer, ("from_account", "to_account", "date", "amount", "to_amount", "description", "status"), owner=None
)
# Fields that both sides of a transfer share; changing them on one side changes the other.
TRANSFER_SHARED_FIELDS = {"date"}


@dataclass(frozen=True)
class SplitLine:
    category: Category
    amount: Decimal
    memo: str = ""


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _validate_money(*, amount: Any, account: Account, field: str = "amount") -> Decimal:
    try:
        value = parse_amount(amount)
        validate_amount_for_currency(value, account.currency)
    except ValidationError as error:
        raise _field_error(field, error.messages[0]) from None
    return value


def _validate_category(category: Category | None, account: Account, field: str = "category") -> None:
    if category is not None and category.household_id != account.household_id:
        raise _field_error(field, "Choose a category of the account's household.")


def _validate_splits(splits: Sequence[SplitLine], *, amount: Decimal, account: Account) -> list[SplitLine]:
    cleaned: list[SplitLine] = []
    for index, line in enumerate(splits):
        split_amount = _validate_money(amount=line.amount, account=account, field="splits")
        if line.category is None:
            raise _field_error("splits", f"Split {index + 1} needs a category.")
        _validate_category(line.category, account, field="splits")
        cleaned.append(SplitLine(category=line.category, amount=split_amount, memo=(line.memo or "")[:200]))
    if cleaned:
        total = sum((line.amount for line in cleaned), Decimal(0))
        if total != amount:
            raise _field_error(
                "splits",
                f"Splits sum to {format_amount(total, account.currency)} but the amount is "
                f"{format_amount(amount, account.currency)}.",
            )
    return cleaned


def _validate_tags(tags: Iterable[Tag], account: Account) -> list[Tag]:
    unique = {tag.pk: tag for tag in tags}
    if any(tag.household_id != account.household_id for tag in unique.values()):
        raise _field_error("tags", "Choose tags of the account's household.")
    return list(unique.values())


def _write_splits(tx: Transaction, splits: Sequence[SplitLine]) -> None:
    Split.objects.filter(transaction=tx).delete()
    Split.objects.bulk_create(
        Split(household_id=tx.household_id, transaction=tx, category=line.category, amount=line.amount, memo=line.memo)
        for line in splits
    )


def _write_tags(tx: Transaction, tags: Sequence[Tag]) -> None:
    TransactionTag.objects.filter(transaction=tx).delete()
    TransactionTag.objects.bulk_create(
        TransactionTag(household_id=tx.household_id, transaction=tx, tag=tag) for tag in tags
    )


def _count_created(count: int, source: str | None) -> None:
    # Counted only once the rows commit; the label is the caller's (import, scheduled), else the
    # request's channel (api, admin), else "manual" (shell, commands).
    label = source or current_channel() or "manual"
    transaction.on_commit(lambda: transactions_created.labels(source=label).inc(count))


@transaction.atomic
def transaction_create(
    *,
    account: Account,
    date: date,
    amount: Decimal | str | int,
    user: User | None = None,
    payee: str = "",
    description: str = "",
    category: Category | None = None,
    status: str = TransactionStatus.CLEARED,
    tags: Iterable[Tag] = (),
    splits: Sequence[SplitLine] = (),
    source: str | None = None,
) -> Transaction:
    value = _validate_money(amount=amount, account=account)
    _validate_category(category, account)
    split_lines = _validate_splits(splits, amount=value, account=account)
    tag_list = _validate_tags(tags, account)
    if status == TransactionStatus.RECONCILED:
        raise _field_error("status", "Transactions become reconciled through a reconciliation.")
    tx = Transaction(
        household_id=account.household_id,
        account=account,
        date=date,
        amount=value,
        payee=payee,
        description=description,
        category=None if split_lines else category,
        status=status,
        created_by=user,
        updated_by=user,
    )
    tx.full_clean(exclude=["household", "account", "category", "transfer", "created_by", "updated_by"])
    tx.save()
    if split_lines:
        _write_splits(tx, split_lines)
    if tag_list:
        _write_tags(tx, tag_list)
    audit_created(tx, actor=user)
    _count_created(1, source)
    return tx


def _ensure_not_reconciled(tx: Transaction, changes: dict[str, Any]) -> None:
    if not tx.is_reconciled:
        return
    # Every change is refused, status included: un-reconciling is its own deliberate step
    # (transaction_unreconcile, `POST transactions/{id}/unreconcile/`), never a side effect of an edit.
    if changes:
        raise ReconciledTransactionError(f"Transaction {tx.pk} is reconciled: un-reconcile it before changing it.")


@transaction.atomic
def transaction_update(
    *,
    transaction_obj: Transaction,
    user: User | None = None,
    splits: Sequence[SplitLine] | None = None,
    tags: Iterable[Tag] | None = None,
    **fields: Any,
) -> Transaction:
    TRANSACTION_EDITABLE_FIELDS.reject_unknown(fields)
    tx = Transaction.objects.select_for_update().select_related("account").get(pk=transaction_obj.pk)
    before = snapshot(tx)
    changes = {name: value for name, value in fields.items() if getattr(tx, name) != value}
    if splits is not None:
        changes["splits"] = splits
    if tags is not None:
        changes["tags"] = tags
    _ensure_not_reconciled(tx, changes)
    if changes.get("status") == TransactionStatus.RECONCILED:
        raise _field_error("status", "Transactions become reconciled through a reconciliation.")
    if tx.transfer_id and ({"amount", "account"} & set(changes)):
        raise _field_error("amount", "This is one side of a transfer: change the transfer instead.")
    if (
        tx.transfer_id
        and (TRANSFER_SHARED_FIELDS & set(changes))
        and Transaction.objects.filter(transfer_id=tx.transfer_id, status=TransactionStatus.RECONCILED).exists()
    ):
        raise ReconciledTransactionError("The other side of this transfer is reconciled: un-reconcile it first.")

    account = changes.get("account", tx.account)
    if account.household_id != tx.household_id:
        raise _field_error("account", "Choose an account of the same household.")
    amount = _validate_money(amount=changes.get("amount", tx.amount), account=account)
    for name, value in changes.items():
        if name not in {"splits", "tags"}:
            setattr(tx, name, value)
    tx.amount = amount
    _validate_category(tx.category, account)

    if splits is not None:
        split_lines = _validate_splits(splits, amount=amount, account=account)
        if split_lines:
            tx.category = None
    elif "amount" in changes and tx.splits.exists():
        raise _field_error("splits", "The amount changed: send splits that sum to the new amount.")
    else:
        split_lines = None
    tx.updated_by = user
    tx.full_clean(exclude=["household", "account", "category", "transfer", "created_by", "updated_by"])
    tx.save()
    if split_lines is not None:
        _write_splits(tx, split_lines)
    if tags is not None:
        _write_tags(tx, _validate_tags(tags, account))
    if tx.transfer_id and (TRANSFER_SHARED_FIELDS & set(changes)):
        Transaction.objects.filter(transfer_id=tx.transfer_id).exclude(pk=tx.pk).update(date=tx.date, updated_by=user)
    audit_updated(tx, before=before, actor=user)
    return tx


@transaction.atomic
def transaction_delete(*, transaction_obj: Transaction, user: User | None = None) -> None:
    tx = Transaction.objects.select_for_update().get(pk=transaction_obj.pk)
    if tx.transfer_id:
        sides = list(Transaction.objects.select_for_update().filter(transfer_id=tx.transfer_id))
        if any(side.is_reconciled for side in sides):
            raise ReconciledTransactionError("One side of this transfer is reconciled: un-reconcile it first.")
        _audit_transfer_delete(Transfer.objects.get(pk=tx.transfer_id), sides, user)
        Transfer.objects.filter(pk=tx.transfer_id).delete()
        return
    if tx.is_reconciled:
        raise ReconciledTransactionError(f"Transaction {tx.pk} is reconciled: un-reconcile it before deleting it.")
    audit_deleted(tx, actor=user)
    tx.delete()


def _audit_transfer_delete(transfer: Transfer, sides: Sequence[Transaction], user: User | None) -> None:
    # Each side's history ends with its own delete entry, next to the transfer's.
    before = {side.pk: snapshot(side) for side in sides}
    before[transfer.pk] = snapshot(transfer)
    audit_record_many(action=AuditAction.DELETE, instances=[*sides], before=before, actor=user)
    audit_record(
        action=AuditAction.DELETE,
        instance=transfer,
        household_id=transfer.household_id,
        before=before[transfer.pk],
        actor=user,
    )


@transaction.atomic
def transfer_create(
    *,
    from_account: Account,
    to_account: Account,
    date: date,
    amount: Decimal | str,
    to_amount: Decimal | str | None = None,
    description: str = "",
    user: User | None = None,
    status: str = TransactionStatus.CLEARED,
) -> Transfer:
    """Move money between two accounts: two linked transactions, created together or not at all."""
    if from_account.pk == to_account.pk:
        raise _field_error("to_account", "Choose two different accounts.")
    if from_account.household_id != to_account.household_id:
        raise _field_error("to_account", "Both accounts must belong to the same household.")
    sent = _validate_money(amount=amount, account=from_account)
    if sent <= 0:
        raise _field_error("amount", "Transfer a positive amount.")
    if to_amount in (None, ""):
        if from_account.currency != to_account.currency:
            raise _field_error("to_amount", "The accounts' currencies differ: give the amount received.")
        received = sent
    else:
        received = _validate_money(amount=to_amount, account=to_account, field="to_amount")
        if received <= 0:
            raise _field_error("to_amount", "The amount received must be positive.")
        if from_account.currency == to_account.currency and received != sent:
            raise _field_error("to_amount", "Both accounts use one currency, so both amounts must be equal.")
    transfer = Transfer.objects.create(household_id=from_account.household_id, created_by=user)
    common = {
        "household_id": from_account.household_id,
        "date": date,
        "transfer": transfer,
        "status": status,
        "description": description,
        "created_by": user,
        "updated_by": user,
    }
    sides = Transaction.objects.bulk_create(
        [
            Transaction(account=from_account, amount=-sent, payee=to_account.name, **common),
            Transaction(account=to_account, amount=received, payee=from_account.name, **common),
        ]
    )
    audit_record_many(action=AuditAction.CREATE, instances=[transfer, *sides], actor=user)
    _count_created(len(sides), None)
    return transfer


@transaction.atomic
def transfer_delete(*, transfer: Transfer) -> None:
    sides = list(Transaction.objects.select_for_update().filter(transfer=transfer))
    if any(side.is_reconciled for side in sides):
        raise ReconciledTransactionError("One side of this transfer is reconciled: un-reconcile it first.")
    _audit_transfer_delete(transfer, sides, None)
    transfer.delete()


@dataclass(frozen=True)
class BulkResult:
    changed: int
    skipped_reconciled: int


def _bulk_update(queryset: QuerySet[Transaction], user: User | None, **values: Any) -> BulkResult:
    with transaction.atomic():
        locked = queryset.select_for_update()
        skipped = locked.filter(status=TransactionStatus.RECONCILED).count()
        rows = bulk_update_rows(queryset.exclude(status=TransactionStatus.RECONCILED), fields=values)
        changed = locked.exclude(status=TransactionStatus.RECONCILED).update(updated_by=user, **values)
        audit_record_bulk_update(model=Transaction, rows=rows, values=values, actor=user)
    return BulkResult(changed=changed, skipped_reconciled=skipped)


def transactions_mark_cleared(*, queryset: QuerySet[Transaction], user: User | None = None) -> BulkResult:
    return _bulk_update(queryset.filter(status=TransactionStatus.PENDING), user, status=TransactionStatus.CLEARED)


def transactions_set_category(
    *, queryset: QuerySet[Transaction], category: Category, user: User | None = None
) -> BulkResult:
    # Split transactions keep their per-line categories; transfers are not spending.
    # Exists() rather than a join + DISTINCT: PostgreSQL refuses FOR UPDATE with DISTINCT or on an outer join.
    has_splits = Exists(Split.objects.filter(transaction_id=OuterRef("pk")))
    target = queryset.filter(household_id=category.household_id, transfer__isnull=True).exclude(has_splits)
    return _bulk_update(target, user, category=category)


@transaction.atomic
def account_reconcile(
    *, account: Account, statement_date: date, statement_balance: Decimal | str, user: User | None = None
) -> Reconciliation:
    """Mark every cleared transaction up to the statement date reconciled, if the books match the statement."""
    balance = _validate_money(amount=statement_balance, account=account, field="statement_balance")
    Account.objects.select_for_update().get(pk=account.pk)
    cleared = Transaction.objects.filter(
        account=account,
        date__lte=statement_date,
        status__in=[TransactionStatus.CLEARED, TransactionStatus.RECONCILED],
    )
    opening = account.opening_balance if account.opening_date <= statement_date else Decimal(0)
    books = opening + (cleared.aggregate(total=Sum("amount"))["total"] or Decimal(0))
    if books != balance:
        difference = balance - books
        raise ConflictError(
            f"The cleared balance on {statement_date} is {format_amount(books, account.currency)} but the "
            f"statement says {format_amount(balance, account.currency)} (difference "
            f"{format_amount(difference, account.currency)}). Clear or fix transactions, then try again."
        )
    count = cleared.filter(status=TransactionStatus.CLEARED).update(
        status=TransactionStatus.RECONCILED, updated_by=user
    )
    reconciliation = Reconciliation.objects.create(
        household_id=account.household_id,
        account=account,
        statement_date=statement_date,
        statement_balance=balance,
        transaction_count=count,
        created_by=user,
    )
    # One entry per reconciliation (it names the count), not one per transaction it locked.
    audit_created(reconciliation, actor=user)
    return reconciliation


@transaction.atomic
def transaction_unreconcile(*, transaction_obj: Transaction, user: User | None = None) -> Transaction:
    tx = Transaction.objects.select_for_update().get(pk=transaction_obj.pk)
    if tx.is_reconciled:
        before = snapshot(tx)
        tx.status = TransactionStatus.CLEARED
        tx.updated_by = user
        tx.save(update_fields=["status", "updated_by", "updated_at"])
        audit_updated(tx, before=before, actor=user)
    return tx
