"""A whole household to JSON and back, losslessly (new ids, same facts).

The file holds every household-owned row of the ledger (accounts, categories, tags, transfers, transactions,
splits, tag links, reconciliations, rules and their tags), the budgets app's budget lines, schedules and posted
occurrences, CSV profiles and the import de-duplication memory (so a restored household does not re-import
what it already has), and the members by username. Foreign keys are written as the old ids and remapped on
import; people are matched by username and created (without a usable password) when missing.

Not included: attachment and statement files (they live in object storage; copy the uploads volume or bucket),
statement import history, audit entries and API tokens. The derived monthly account totals are rebuilt by
the database's triggers as the transactions are inserted.

Memory: export streams row by row; import reads the whole file (json), which is fine up to a few million rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

from ledger.models import Household, Membership, User
from ledger.services.households import HOUSEHOLD_EDITABLE_FIELDS

FORMAT = "financetracker-household"
VERSION = 1
# Dependency order: a model comes after every model it points at.
MODELS = [
    "ledger.Account",
    "ledger.Category",
    "ledger.Tag",
    "ledger.Transfer",
    "ledger.Transaction",
    "ledger.Split",
    "ledger.TransactionTag",
    "ledger.Reconciliation",
    "ledger.Rule",
    "ledger.RuleTag",
    "budgets.Budget",
    "budgets.ScheduledTransaction",
    "budgets.ScheduledOccurrence",
    "uploads.CsvProfile",
    "uploads.ImportedKey",
]
# Provenance that points at what the file does not carry.
_DROPPED_FIELDS = {"uploads.ImportedKey": {"statement_import"}}


def _available_models() -> list[type[models.Model]]:
    found = []
    for label in MODELS:
        try:
            found.append(apps.get_model(label))
        except LookupError:  # the budgets app may not have a model yet
            continue
    return found


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    dropped = _DROPPED_FIELDS.get(model._meta.label, set())
    return [
        field
        for field in model._meta.concrete_fields
        if field.name not in ("id", "household") and field.name not in dropped
    ]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(model: type[models.Model], household_id: int, usernames: dict[int, str]) -> Iterator[dict[str, Any]]:
    fields = _fields(model)
    queryset = model._default_manager.filter(household_id=household_id).order_by("pk")
    if model._meta.label == "ledger.Category":
        # Parents before their children.
        queryset = queryset.order_by(models.F("parent_id").asc(nulls_first=True), "pk")
    names = ["pk", *(field.attname for field in fields)]
    for values in queryset.values_list(*names).iterator(chunk_size=5000):
        row: dict[str, Any] = {"id": values[0]}
        for field, value in zip(fields, values[1:], strict=True):
            if field.is_relation and field.related_model is User:
                row[field.name] = usernames.get(value) if value is not None else None
            else:
                row[field.name] = _plain(value)
        yield row


def household_export(*, household: Household, output: IO[str]) -> dict[str, int]:
    """Write the household as JSON to `output`, streaming. Returns the number of rows per model."""
    memberships = list(Membership.objects.filter(household=household).select_related("user").order_by("id"))
    usernames = dict(User.objects.values_list("id", "username"))
    header = {
        "format": FORMAT,
        "version": VERSION,
        # What an owner sets on a household (its declaration), restored as given by household_import.
        "household": {name: _plain(getattr(household, name)) for name in HOUSEHOLD_EDITABLE_FIELDS},
        "members": [
            {
                "username": m.user.username,
                "email": m.user.email,
                "first_name": m.user.first_name,
                "last_name": m.user.last_name,
                "role": m.role,
            }
            for m in memberships
        ],
    }
    counts: dict[str, int] = {}
    output.write(json.dumps(header)[:-1])
    output.write(', "tables": {')
    for index, model in enumerate(_available_models()):
        label = model._meta.label
        output.write(("," if index else "") + f"\n{json.dumps(label)}: [")
        count = 0
        for row in _rows(model, household.pk, usernames):
            output.write(("," if count else "") + "\n" + json.dumps(row, ensure_ascii=False))
            count += 1
        output.write("]")
        counts[label] = count
    output.write("}}\n")
    return counts


@contextmanager
def _keeping_timestamps(model: type[models.Model]) -> Iterator[None]:
    """bulk_create would stamp auto_now/auto_now_add fields with now(); restore the file's values instead."""
    changed: list[tuple[models.DateField, bool, bool]] = []
    for field in model._meta.concrete_fields:
        # DateTimeField is a DateField: both carry auto_now and auto_now_add.
        if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
            changed.append((field, field.auto_now, field.auto_now_add))
            field.auto_now = field.auto_now_add = False
    try:
        yield
    finally:
        for field, auto_now, auto_now_add in changed:
            field.auto_now, field.auto_now_add = auto_now, auto_now_add


def _user_for(username: str | None, users: dict[str, User]) -> User | None:
    if not username:
        return None
    if username not in users:
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        users[username] = user
    return users[username]


def _distinct_name(name: str) -> str:
    """The name, or "<name> (restored <date>)" / "... (restored <date>, 2)" when a household has it already,
    so a restore next to the original is never mistaken for it."""
    if not Household.objects.filter(name=name).exists():
        return name
    today = timezone.localdate().isoformat()
    max_length = Household._meta.get_field("name").max_length or 120
    for attempt in range(1, 1000):
        suffix = f" (restored {today})" if attempt == 1 else f" (restored {today}, {attempt})"
        candidate = name[: max_length - len(suffix)] + suffix
        if not Household.objects.filter(name=candidate).exists():
            return candidate
    raise ValueError(f"Too many restored copies named {name!r}.")


@transaction.atomic
def household_import(*, source: IO[str]) -> tuple[Household, dict[str, dict[int, int]]]:
    """Create a new household from an export. Returns it and {model label: {old id: new id}}."""
    data = json.load(source)
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise ValueError(f"Not a {FORMAT} file of version {VERSION}.")
    with connection.cursor() as cursor:
        # Splits of reconciled transactions must be inserted after their transaction; the lock trigger would refuse.
        cursor.execute("SET LOCAL ledger.allow_reconciled_changes = 'on'")
    fields = dict(data["household"])
    fields["name"] = _distinct_name(str(fields.get("name") or "Household"))
    household = Household.objects.create(**fields)
    users: dict[str, User] = {
        user.username: user
        for user in User.objects.filter(username__in=[member["username"] for member in data["members"]])
    }
    for member in data["members"]:
        user = _user_for(member["username"], users)
        assert user is not None
        if not user.email and member.get("email"):
            user.email = member["email"]
            user.first_name, user.last_name = member.get("first_name", ""), member.get("last_name", "")
            user.save(update_fields=["email", "first_name", "last_name"])
        Membership.objects.create(household=household, user=user, role=member["role"])
    id_maps: dict[str, dict[int, int]] = {}
    for model in _available_models():
        label = model._meta.label
        rows = data["tables"].get(label, [])
        id_maps[label] = _insert(model, rows, household, id_maps, users)
    _remap_rule_accounts(household, id_maps)
    return household, id_maps


def _insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    household: Household,
    id_maps: dict[str, dict[int, int]],
    users: dict[str, User],
) -> dict[int, int]:
    fields = _fields(model)
    mapping: dict[int, int] = {}
    self_references = [field for field in fields if field.is_relation and field.related_model is model]
    pending = list(rows)
    with _keeping_timestamps(model):
        # Self-references (category parents) go in waves: parents first.
        while pending:
            wave = [
                row
                for row in pending
                if all(row.get(f.name) is None or row[f.name] in mapping for f in self_references)
            ]
            if not wave:
                raise ValueError(f"{model._meta.label}: rows refer to parents that are not in the file.")
            objects = []
            for row in wave:
                values: dict[str, Any] = {"household": household}
                for field in fields:
                    value = row.get(field.name)
                    if field.is_relation:
                        target = field.related_model
                        assert target is not None  # a relation's model (resolved once the apps are loaded)
                        if target is User:
                            values[field.name] = _user_for(value, users)
                        elif value is None:
                            values[field.attname] = None
                        else:
                            values[field.attname] = (mapping if target is model else id_maps[target._meta.label])[value]
                    else:
                        values[field.name] = field.to_python(value)
                objects.append(model(**values))
            created = model._default_manager.bulk_create(objects, batch_size=2000)
            for row, obj in zip(wave, created, strict=True):
                mapping[row["id"]] = obj.pk
            done = {id(row) for row in wave}
            pending = [row for row in pending if id(row) not in done]
    return mapping


def _remap_rule_accounts(household: Household, id_maps: dict[str, dict[int, int]]) -> None:
    """Rule conditions name accounts by id inside JSON: point them at the new accounts."""
    from ledger.models import Rule

    accounts = id_maps.get("ledger.Account", {})
    for rule in Rule.objects.filter(household=household):
        changed = False
        for condition in rule.conditions:
            if condition.get("field") == "account" and condition.get("value") in accounts:
                condition["value"] = accounts[condition["value"]]
                changed = True
        if changed:
            rule.save(update_fields=["conditions"])
