"""The hooks through which one app extends another: each is a registry declared here, filled in `AppConfig.ready()`.

An app never patches another app's classes or appends to its module-level lists; it registers into one of
these, and the owning code reads the registry when it runs. So a newcomer finds every cross-app hook here.

| registry                     | read by                                   | registered by                     |
|------------------------------|-------------------------------------------|-----------------------------------|
| `consistency_checks`         | `manage.py check_ledger`                  | ledger, uploads (`apps.py`)       |
| `demo_seeders`               | `ledger.demo.seed_demo` (after the books) | budgets (`apps.py`)               |
| `transaction_admin_inlines`  | the transaction admin page                | uploads (`apps.py`): receipts     |
| `transaction_admin_actions`  | the transaction admin list's actions      | uploads (`apps.py`): CSV export   |
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from django.contrib.admin.options import InlineModelAdmin

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered set of entries, in registration order; registering the same entry twice keeps one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: list[T] = []

    def register(self, entry: T) -> T:
        if entry not in self._entries:
            self._entries.append(entry)
        return entry

    def __iter__(self) -> Iterator[T]:
        return iter(tuple(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.name!r}, {self._entries!r})"


@dataclass(frozen=True)
class ConsistencyCheck:
    """One read-only proof of an invariant: `run(household_id or None)` returns the breaches, by row id."""

    name: str
    run: Callable[[int | None], list[str]]


class DemoSeeder(Protocol):
    def __call__(self, *, household: Any, today: datetime.date) -> None: ...


# The invariants `check_ledger` proves, each app's alongside the ledger's.
consistency_checks: Registry[ConsistencyCheck] = Registry("consistency checks")

# Run by `seed_demo` inside its transaction, once the demo household has its books.
demo_seeders: Registry[DemoSeeder] = Registry("demo seeders")

# Inline admin classes shown on a transaction's admin page after its own (splits, tags).
transaction_admin_inlines: Registry[type[InlineModelAdmin[Any, Any]]] = Registry("transaction admin inlines")

# Admin actions (`@admin.action` functions) offered on the transaction list after its own.
transaction_admin_actions: Registry[Callable[..., Any]] = Registry("transaction admin actions")
