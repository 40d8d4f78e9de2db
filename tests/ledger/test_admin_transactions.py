"""The transaction admin: split lines, reconciliation, transfers, deletes and bulk actions."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.test import Client

from ledger.models import (
    Account,
    Category,
    Household,
    Reconciliation,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    Transfer,
    User,
)
from ledger.services.transactions import SplitLine, transaction_create, transfer_create
from tests.factories import Books, TransactionFactory
from tests.ledger.back_office import (
    SECRET,
    admin_url,
    form_data,
    login,
    messages_of,
    messages_of_action,
    reconciled_transaction,
)

# --- transactions: splits, reconciliation, deletes --------------------------------------------------------


def split_post(
    account: Account, amount: str, lines: list[tuple[Category, str]], tags: Sequence[Tag] = ()
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "account": account.pk,
        "date": "2024-04-02",
        "amount": amount,
        "payee": "Hypermarket",
        "description": "",
        "category": "",
        "status": TransactionStatus.CLEARED,
        "splits-TOTAL_FORMS": str(len(lines)),
        "splits-INITIAL_FORMS": "0",
        "splits-MIN_NUM_FORMS": "0",
        "splits-MAX_NUM_FORMS": "1000",
        "tag_links-TOTAL_FORMS": str(len(tags)),
        "tag_links-INITIAL_FORMS": "0",
        "tag_links-MIN_NUM_FORMS": "0",
        "tag_links-MAX_NUM_FORMS": "1000",
        # The receipts inline (uploads app), with no file chosen.
        "attachments-TOTAL_FORMS": "0",
        "attachments-INITIAL_FORMS": "0",
        "attachments-MIN_NUM_FORMS": "0",
        "attachments-MAX_NUM_FORMS": "1000",
    }
    for index, (category, line_amount) in enumerate(lines):
        data[f"splits-{index}-category"] = category.pk
        data[f"splits-{index}-amount"] = line_amount
        data[f"splits-{index}-memo"] = f"line {index}"
    for index, tag in enumerate(tags):
        data[f"tag_links-{index}-tag"] = tag.pk
    return data


def test_editor_adds_a_transaction_with_split_lines_and_tags(
    client: Client, personas: dict[str, User], books: Books
) -> None:
    data = split_post(
        books.checking, "-50.00", [(books.groceries, "-30.00"), (books.travel, "-20.00")], [books.holiday]
    )
    response = login(client, personas["editor"]).post(admin_url("transaction", "add"), data)
    assert response.status_code == 302
    tx = Transaction.objects.get(payee="Hypermarket")
    assert sorted(tx.splits.values_list("amount", flat=True)) == [Decimal("-30.00"), Decimal("-20.00")]
    assert list(tx.tags.all()) == [books.holiday]
    assert tx.created_by == personas["editor"]
    assert tx.household_id == books.checking.household_id


def test_splits_that_do_not_sum_give_a_form_error(client: Client, personas: dict[str, User], books: Books) -> None:
    data = split_post(books.checking, "-50.00", [(books.groceries, "-30.00"), (books.travel, "-10.00")])
    response = login(client, personas["editor"]).post(admin_url("transaction", "add"), data)
    assert response.status_code == 200
    assert "Splits sum to -40.00 but the amount is -50.00" in str(response.context["adminform"].form.non_field_errors())
    assert not Transaction.objects.filter(payee="Hypermarket").exists()


def test_editor_replaces_split_lines_on_a_transaction(client: Client, personas: dict[str, User], books: Books) -> None:
    tx = transaction_create(
        account=books.checking,
        date=datetime.date(2024, 4, 1),
        amount="-10.00",
        splits=[SplitLine(books.groceries, Decimal("-6.00")), SplitLine(books.travel, Decimal("-4.00"))],
    )
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("transaction", "change", tx.pk)))
    data["amount"] = "-12.00"
    data["splits-1-amount"] = "-6.00"
    response = client.post(admin_url("transaction", "change", tx.pk), data)
    assert response.status_code == 302
    assert sorted(Split.objects.filter(transaction=tx).values_list("amount", flat=True)) == [Decimal("-6.00")] * 2


def test_reconciled_transaction_edit_shows_the_error_and_leaves_the_row(
    client: Client, personas: dict[str, User], books: Books
) -> None:
    tx = reconciled_transaction(books)
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("transaction", "change", tx.pk)))
    data["amount"] = "-26.00"
    response = client.post(admin_url("transaction", "change", tx.pk), data, follow=True)
    assert any("is reconciled: un-reconcile it" in text for text in messages_of(response))
    tx.refresh_from_db()
    assert tx.amount == Decimal("-25.00")


def test_reconciled_transaction_cannot_be_deleted(client: Client, personas: dict[str, User], books: Books) -> None:
    tx = reconciled_transaction(books)
    response = login(client, personas["editor"]).post(
        admin_url("transaction", "delete", tx.pk), {"post": "yes"}, follow=True
    )
    assert any("reconciled" in text for text in messages_of(response))
    assert Transaction.objects.filter(pk=tx.pk).exists()


def test_editor_deletes_a_transaction_through_the_service(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    response = login(client, personas["editor"]).post(admin_url("transaction", "delete", purchase.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Transaction.objects.filter(pk=purchase.pk).exists()


def test_deleting_one_side_of_a_transfer_deletes_both(
    client: Client, personas: dict[str, User], books: Books, household: Household
) -> None:
    savings = books.savings
    transfer = transfer_create(
        from_account=books.checking, to_account=savings, date=datetime.date(2024, 3, 5), amount="100.00"
    )
    side = transfer.transactions.first()
    assert side is not None
    login(client, personas["editor"]).post(admin_url("transaction", "delete", side.pk), {"post": "yes"})
    assert not Transfer.objects.filter(pk=transfer.pk).exists()
    assert not Transaction.objects.filter(transfer_id=transfer.pk).exists()


def test_editor_creates_a_transfer_in_the_admin(
    client: Client, personas: dict[str, User], books: Books, household: Household
) -> None:
    savings = books.savings
    response = login(client, personas["editor"]).post(
        admin_url("transfer", "add"),
        {
            "from_account": books.checking.pk,
            "to_account": savings.pk,
            "date": "2024-03-05",
            "amount": "100.00",
            "to_amount": "",
            "description": "monthly",
            "status": TransactionStatus.CLEARED,
        },
    )
    assert response.status_code == 302
    transfer = Transfer.objects.get(household=household)
    assert sorted(transfer.transactions.values_list("amount", flat=True)) == [Decimal("-100.00"), Decimal("100.00")]
    assert client.get(admin_url("transfer", "change", transfer.pk)).status_code == 200


def test_a_reconciliation_that_does_not_match_shows_the_difference(
    client: Client, personas: dict[str, User], books: Books
) -> None:
    response = login(client, personas["editor"]).post(
        admin_url("reconciliation", "add"),
        {"account": books.checking.pk, "statement_date": "2024-03-31", "statement_balance": "-1.00"},
    )
    assert response.status_code == 200
    assert "difference" in str(response.context["adminform"].form.non_field_errors())
    assert not Reconciliation.objects.exists()


# --- bulk actions --------------------------------------------------------------------------------------


def test_mark_cleared_action_clears_pending_rows(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    login(client, personas["editor"])
    assert "Marked cleared 1 transaction(s)." in messages_of_action(client, "mark_cleared", [purchase])
    purchase.refresh_from_db()
    assert purchase.status == TransactionStatus.CLEARED


def test_set_category_action_asks_for_a_category_then_sets_it(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction, outsider_books: Books
) -> None:
    login(client, personas["editor"])
    selection = {"action": "set_category", "_selected_action": [purchase.pk]}
    page = client.post(admin_url("transaction"), selection)
    assert page.status_code == 200
    assert "admin/ledger/transaction/set_category.html" in [t.name for t in page.templates]
    assert outsider_books.food not in page.context["form"].fields["category"].queryset
    assert SECRET not in page.content.decode()

    shown = messages_of_action(client, "set_category", [purchase], apply="1", category=books.travel.pk)
    assert "Set the category of 1 transaction(s)." in shown
    purchase.refresh_from_db()
    assert purchase.category == books.travel


def test_set_category_refuses_another_households_category(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction, outsider_books: Books
) -> None:
    selection = {"action": "set_category", "_selected_action": [purchase.pk], "apply": "1"}
    page = login(client, personas["editor"]).post(
        admin_url("transaction"), {**selection, "category": outsider_books.food.pk}
    )
    assert page.status_code == 200
    assert page.context["form"].errors
    purchase.refresh_from_db()
    assert purchase.category == books.groceries


def test_export_csv_action_neutralises_spreadsheet_formulas(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction
) -> None:
    risky = TransactionFactory(
        account=books.checking, payee='=HYPERLINK("http://evil")', description="@SUM(A1)", amount=Decimal("-5.00")
    )
    response = login(client, personas["viewer"]).post(
        admin_url("transaction"), {"action": "export_csv", "_selected_action": [risky.pk, purchase.pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(response.getvalue().decode()))}
    assert rows[str(risky.pk)]["payee"] == '\'=HYPERLINK("http://evil")'
    assert rows[str(risky.pk)]["description"] == "'@SUM(A1)"
    assert rows[str(risky.pk)]["amount"] == "-5.00"
    assert rows[str(purchase.pk)]["tags"] == "holiday"
    assert rows[str(purchase.pk)]["category"] == "Food › Groceries"
