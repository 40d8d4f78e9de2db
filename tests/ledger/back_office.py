"""Helpers of the back-office (admin) tests: admin URLs, logging in, the POST of an unchanged change form."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from ledger.models import Transaction, TransactionStatus, User
from ledger.services.transactions import account_reconcile, transaction_create
from tests.factories import Books

MODELS = [
    "household",
    "membership",
    "user",
    "apitoken",
    "account",
    "category",
    "tag",
    "transaction",
    "transfer",
    "reconciliation",
    "rule",
    "auditentry",
]
SECRET = "Zanzibar-secret"  # appears only in the outsider's household


def admin_url(model: str, view: str = "changelist", *args: Any) -> str:
    return reverse(f"admin:ledger_{model}_{view}", args=args)


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def form_data(response: Any) -> dict[str, Any]:
    """The POST a browser would send for an unchanged admin change form (main form, inlines, management forms)."""
    data: dict[str, Any] = {}

    def add(form: Any) -> None:
        for name in form.fields:
            value = form[name].value()
            if value is None:
                value = ""
            elif isinstance(value, bool):
                if not value:
                    continue
                value = "on"
            elif isinstance(value, list | tuple):
                data[form.add_prefix(name)] = [str(v) for v in value]
                continue
            data[form.add_prefix(name)] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.initial_forms:
            add(form)
    return data


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def messages_of_action(client: Client, action: str, selected: list[Transaction], **fields: Any) -> list[str]:
    """Run the transaction change list's `action` on `selected` (with the action's own form `fields`) and
    return the messages the page it lands on shows."""
    selection = {"action": action, "_selected_action": [tx.pk for tx in selected], **fields}
    return messages_of(client.post(admin_url("transaction"), selection, follow=True))


def reconciled_transaction(books: Books) -> Transaction:
    tx = transaction_create(account=books.checking, date=datetime.date(2024, 2, 1), amount="-25.00", payee="Rent")
    account_reconcile(account=books.checking, statement_date=datetime.date(2024, 2, 28), statement_balance="-25.00")
    tx.refresh_from_db()
    assert tx.status == TransactionStatus.RECONCILED
    return tx
