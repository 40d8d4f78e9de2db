"""Audit history: who changed which row, from which request, and what it was before.

Services call these inside their database transaction, so an entry exists exactly when the change does.
Entries outlive the row (deletes keep their history) and are read through
`AuditEntry.objects.restrict(user, "view")`, like every other household-owned row.

Other apps record their own rows with the same calls, e.g. a budget service::

    before = snapshot(budget)
    ...change and save budget...
    audit_record(action=AuditAction.UPDATE, instance=budget, household_id=budget.household_id,
                 before=before, after=snapshot(budget), actor=user)

and a statement import records one entry for the whole import with `audit_record_import`.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import models

from financetracker.core.request_context import bind_household, current_request_id, current_user
from ledger.models import AuditEntry, Household, Transaction, User
from ledger.models.audit import AuditAction

M = TypeVar("M", bound=models.Model)

# Bookkeeping that changes on every save (and says nothing the entry's `at`/`actor` does not), and
# anything secret, never enters a snapshot.
_SKIPPED_FIELDS = frozenset({"updated_at", "updated_by", "password", "key_hash"})
IMPORT_OBJECT_TYPE = "uploads.import"


def json_safe(value: Any) -> Any:
    """Decimals as strings (exact), dates as ISO 8601, rows as their primary key."""
    if value is None or isinstance(value, bool | int | str | float):
        return value
    if isinstance(value, decimal.Decimal):
        return _decimal_string(value)
    if isinstance(value, datetime.date | datetime.datetime | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(item) for item in value]
    return str(value)


def _decimal_string(value: decimal.Decimal) -> str:
    # The database returns its column scale ("-20.0000") where the service had "-20.00": the same
    # money must read the same in every entry, or every update would "change" every amount.
    normalized = value.normalize()
    exponent = normalized.as_tuple().exponent  # a str only for NaN and infinities, which money never is
    if isinstance(exponent, int) and exponent > -2:
        normalized = normalized.quantize(decimal.Decimal("0.01"))
    return f"{normalized:f}"


def object_type_of(model: type[models.Model] | models.Model) -> str:
    return model._meta.label_lower


def snapshot(instance: models.Model) -> dict[str, Any]:
    """The row as JSON-safe values (foreign keys as ids); a transaction includes its splits and tags."""
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SKIPPED_FIELDS:
            continue
        # value_from_object gives a foreign key's id, not the related row.
        data[field.name] = json_safe(field.value_from_object(instance))
    if instance.pk is not None:
        for m2m in instance._meta.many_to_many:
            data[m2m.name] = sorted(getattr(instance, m2m.name).values_list("pk", flat=True))
        if isinstance(instance, Transaction):
            data["splits"] = [
                {"category": split.category_id, "amount": json_safe(split.amount), "memo": split.memo}
                for split in instance.splits.order_by("id")
            ]
    return data


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for every field whose value differs."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _actor(actor: User | None) -> User | None:
    if actor is not None:
        return actor if getattr(actor, "is_authenticated", False) else None
    user = current_user()
    return user if isinstance(user, User) else None


def _entry(
    *,
    action: str,
    household_id: int | None,
    object_type: str,
    object_id: int,
    object_repr: str,
    changes: dict[str, Any],
    actor: User | None,
) -> AuditEntry:
    bind_household(household_id)
    return AuditEntry(
        household_id=household_id,
        actor=actor,
        request_id=current_request_id() or "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:200],
        changes=changes,
    )


def audit_record(
    *,
    action: str,
    household_id: int | None,
    instance: models.Model | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    object_repr: str | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    actor: User | None = None,
) -> AuditEntry | None:
    """Record one change. Creates store `after`, deletes `before`, updates only the changed fields.

    `object_type`/`object_id`/`object_repr` default from `instance`; `actor` from the current request.
    An update that changed nothing records nothing (and returns None).
    """
    if object_type is None or object_id is None:
        if instance is None:
            raise ValueError("audit_record needs an instance, or object_type and object_id.")
        object_type = object_type or object_type_of(instance)
        object_id = object_id if object_id is not None else instance.pk
    if object_repr is None:
        object_repr = str(instance) if instance is not None else ""
    if action == AuditAction.UPDATE:
        changes: dict[str, Any] = changed_fields(before or {}, after or {})
        if not changes:
            return None
    elif action == AuditAction.DELETE:
        changes = dict(json_safe(before or {}))
    else:
        changes = dict(json_safe(after or {}))
    entry = _entry(
        action=action,
        household_id=household_id,
        object_type=object_type,
        object_id=int(object_id),
        object_repr=object_repr,
        changes=changes,
        actor=_actor(actor),
    )
    entry.save()
    return entry


def audit_record_many(
    *,
    action: str,
    instances: Iterable[models.Model],
    before: Mapping[int, Mapping[str, Any]] | None = None,
    actor: User | None = None,
) -> list[AuditEntry]:
    """One create/delete entry per row in a single INSERT (e.g. both sides of a transfer)."""
    who = _actor(actor)
    entries = []
    for instance in instances:
        state = (before or {}).get(instance.pk) if action == AuditAction.DELETE else snapshot(instance)
        entries.append(
            _entry(
                action=action,
                household_id=household_of(instance),
                object_type=object_type_of(instance),
                object_id=instance.pk,
                object_repr=str(instance),
                changes=dict(state or {}),
                actor=who,
            )
        )
    return AuditEntry.objects.bulk_create(entries)


def _column(model: type[models.Model], name: str) -> str:
    """A field's column attribute: `category` -> `category_id`."""
    return str(getattr(model._meta.get_field(name), "attname", name))


def bulk_update_rows(queryset: models.QuerySet[Any], *, fields: Iterable[str]) -> list[dict[str, Any]]:
    """Read the rows a bulk `update()` is about to change: id, household and the fields' old values.

    Reads through a pk subquery so a DISTINCT or locking queryset can be passed as is.
    """
    columns = [_column(queryset.model, name) for name in fields]
    return list(
        queryset.model._default_manager.filter(pk__in=queryset.values("pk")).values("pk", "household_id", *columns)
    )


def audit_record_bulk_update(
    *,
    model: type[models.Model],
    rows: Iterable[Mapping[str, Any]],
    values: Mapping[str, Any],
    actor: User | None = None,
) -> list[AuditEntry]:
    """One update entry per row changed by a bulk `update(**values)`, written with one INSERT."""
    who = _actor(actor)
    object_type = object_type_of(model)
    new = {name: json_safe(value) for name, value in values.items() if name not in _SKIPPED_FIELDS}
    entries = []
    for row in rows:
        old = {name: json_safe(row.get(_column(model, name))) for name in new}
        changes = changed_fields(old, new)
        if changes:
            entries.append(
                _entry(
                    action=AuditAction.UPDATE,
                    household_id=row["household_id"],
                    object_type=object_type,
                    object_id=row["pk"],
                    object_repr=f"{model._meta.verbose_name} {row['pk']}",
                    changes=changes,
                    actor=who,
                )
            )
    return AuditEntry.objects.bulk_create(entries)


def audit_record_import(
    *, household_id: int, import_id: int, summary: Mapping[str, Any], actor: User | None = None, object_repr: str = ""
) -> AuditEntry:
    """ONE entry for a whole statement import (not one per row): counts, file name, account, etc."""
    entry = audit_record(
        action=AuditAction.IMPORT,
        household_id=household_id,
        object_type=IMPORT_OBJECT_TYPE,
        object_id=import_id,
        object_repr=object_repr or f"import {import_id}",
        after=summary,
        actor=actor,
    )
    assert entry is not None  # only updates can record nothing
    return entry


def audit_created(instance: models.Model, *, actor: User | None = None) -> AuditEntry | None:
    """A household-owned row was created: record it as it now is."""
    return _audit_row(AuditAction.CREATE, instance, actor, after=snapshot(instance))


def audit_updated(instance: models.Model, *, before: Mapping[str, Any], actor: User | None = None) -> AuditEntry | None:
    """A household-owned row changed from `before` (a snapshot taken before the change) to what it is now."""
    return _audit_row(AuditAction.UPDATE, instance, actor, before=before, after=snapshot(instance))


def audit_deleted(instance: models.Model, *, actor: User | None = None) -> AuditEntry | None:
    """A household-owned row is about to be deleted: call before deleting, while it can still be read."""
    return _audit_row(AuditAction.DELETE, instance, actor, before=snapshot(instance))


def save_created(instance: M, *, validate: Callable[[M], object]) -> M:
    """A service's create of a household-owned row: validate it, save it, record it."""
    validate(instance)
    instance.save()
    audit_created(instance)
    return instance


def save_changes(instance: M, fields: Mapping[str, object], *, validate: Callable[[M], object]) -> M:
    """A service's update: set `fields` (already checked against its declaration), validate, save, record."""
    before = snapshot(instance)
    for name, value in fields.items():
        setattr(instance, name, value)
    validate(instance)
    instance.save()
    audit_updated(instance, before=before)
    return instance


def delete_locked(instance: models.Model) -> None:
    """A service's delete: lock the row afresh, record it and delete it; a row already gone is no error."""
    locked = type(instance)._default_manager.select_for_update().filter(pk=instance.pk).first()
    if locked is None:
        return
    audit_deleted(locked)
    locked.delete()


def _audit_row(
    action: str,
    instance: models.Model,
    actor: User | None,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry | None:
    household_id = household_of(instance)
    return audit_record(
        action=action, instance=instance, household_id=household_id, before=before, after=after, actor=actor
    )


def household_of(instance: models.Model) -> int | None:
    """The household an entry about `instance` is filed under (None for data every household shares)."""
    return instance.pk if isinstance(instance, Household) else getattr(instance, "household_id", None)
