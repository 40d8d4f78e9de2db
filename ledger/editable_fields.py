"""What a person may set on each kind of row, declared once, next to the service that writes it.

A declaration is a tuple of names in form order, so it spreads into a serializer's `Meta.fields` and an
admin's `fields`; it also refuses, never drops, a name it does not have (`reject_unknown`). Every
declaration made is listed in `DECLARATIONS`, and tests/ledger/test_editable_fields.py goes over all of
them: the API's writable fields and the admin's form fields must be exactly the declared ones, and the
service must accept each and refuse any other. A new declaration without a matching API and admin fails it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

DECLARATIONS: list[EditableFields] = []


class EditableFields(tuple[str, ...]):
    """The names `model`'s service accepts, in form order.

    `lines`: declared names the service takes as rows of their own (split lines, tags): writable in the API,
    written through inlines in the admin. `create_only`: declared names set on create, then read-only (a budget
    line's category and month). `owner`: set once on create, then read-only — which books a row is in."""

    model: type[models.Model]
    label: str
    lines: tuple[str, ...]
    create_only: tuple[str, ...]
    owner: str | None

    def __new__(
        cls,
        model: type[models.Model],
        names: tuple[str, ...],
        *,
        label: str | None = None,
        lines: tuple[str, ...] = (),
        create_only: tuple[str, ...] = (),
        owner: str | None = "household",
    ) -> EditableFields:
        if len(set(names)) != len(names) or not set(create_only) | set(lines) <= set(names):
            raise ValueError(f"{model.__name__}: names are listed once, create_only and lines among them.")
        declaration = super().__new__(cls, names)
        declaration.model = model
        declaration.label = label or str(model._meta.verbose_name)
        declaration.lines = lines
        declaration.create_only = create_only
        declaration.owner = owner
        DECLARATIONS.append(declaration)
        return declaration

    @property
    def api_fields(self) -> tuple[str, ...]:
        """What the API writes, in order: the owner (on create), then the declared names."""
        return (*self._owner, *self)

    @property
    def admin_fields(self) -> tuple[str, ...]:
        """The admin form's fields: the owner and the declared names but the lines (those are inlines)."""
        return (*self._owner, *self.columns)

    @property
    def columns(self) -> tuple[str, ...]:
        """The declared names stored on the row itself (not lines)."""
        return tuple(name for name in self if name not in self.lines)

    @property
    def _owner(self) -> tuple[str, ...]:
        return (self.owner,) if self.owner else ()

    def reject_unknown(self, fields: Mapping[str, object]) -> None:
        """Refuse, never drop, a name the declaration does not have."""
        unknown = set(fields) - set(self)
        if unknown:
            raise ValidationError(f"Unknown {self.label} fields: {', '.join(sorted(unknown))}.")

    def pick(self, data: Mapping[str, Any], *, owner: bool = False) -> dict[str, Any]:
        """The declared row names (and the owner, if asked) present in `data`, e.g. a form's cleaned_data."""
        names = self.admin_fields if owner else self.columns
        return {name: data[name] for name in names if name in data}

    def api_fields_showing(self, anchor: str, *shown: str) -> tuple[str, ...]:
        """`api_fields` with read-only `shown` fields placed right after `anchor` (a currency beside its amount)."""
        names = self.api_fields
        at = names.index(anchor) + 1
        return (*names[:at], *shown, *names[at:])

    def __repr__(self) -> str:
        return f"EditableFields({self.model.__name__}, {tuple(self)!r})"
