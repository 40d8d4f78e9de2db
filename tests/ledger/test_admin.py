"""The back office: every page scoped to the signed-in person's households, roles decide writes, services write."""

from __future__ import annotations

import csv
import datetime
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ledger.models import (
    Account,
    ApiToken,
    Category,
    Household,
    Membership,
    Reconciliation,
    Role,
    Rule,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    Transfer,
    User,
)
from ledger.rules import rule_create
from ledger.services.books import account_create, category_create, tag_create
from ledger.services.tokens import api_token_create, token_hash
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
from tests.conftest import clear_this_workers_cache
from tests.factories import TransactionFactory, UserFactory, staff_member

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


@pytest.fixture
def books(household: Household, owner: User) -> dict[str, Any]:
    checking = account_create(
        household=household, name="Checking", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    food = category_create(household=household, name="Food")
    groceries = category_create(household=household, name="Groceries", parent=food)
    travel = category_create(household=household, name="Travel")
    tag = tag_create(household=household, name="holiday")
    tx = transaction_create(
        account=checking,
        date=datetime.date(2024, 3, 1),
        amount="-40.00",
        payee="Corner shop",
        category=groceries,
        status=TransactionStatus.PENDING,
        tags=[tag],
        user=owner,
    )
    return {"account": checking, "food": food, "groceries": groceries, "travel": travel, "tag": tag, "tx": tx}


@pytest.fixture
def outsider_books(outsider_household: Household, outsider: User) -> dict[str, Any]:
    account = account_create(
        household=outsider_household, name=f"{SECRET} account", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    category = category_create(household=outsider_household, name=f"{SECRET} category")
    tag = tag_create(household=outsider_household, name=f"{SECRET} tag")
    tx = transaction_create(
        account=account, date=datetime.date(2024, 3, 2), amount="-99.00", payee=f"{SECRET} payee", category=category
    )
    rule = rule_create(
        household=outsider_household,
        name=f"{SECRET} rule",
        conditions=[{"field": "payee", "operator": "contains", "value": "x"}],
        set_category=category,
    )
    return {"account": account, "category": category, "tag": tag, "tx": tx, "rule": rule}


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


# --- pages each persona may open ---------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("persona", ["owner", "editor", "viewer", "outsider"])
def test_it_shows_every_changelist_to_each_member(
    client: Client, personas: dict[str, User], books: dict[str, Any], model: str, persona: str
) -> None:
    response = login(client, personas[persona]).get(admin_url(model))
    assert response.status_code == 200


ADD_PAGE_STATUS = {
    # model: (owner, editor, viewer, outsider) — the outsider owns a household of their own.
    "household": (200, 200, 200, 200),
    # People join by accepting an invitation: nobody adds a membership by name.
    "membership": (403, 403, 403, 403),
    "user": (403, 403, 403, 403),
    "apitoken": (200, 200, 200, 200),
    "auditentry": (403, 403, 403, 403),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("index,persona", list(enumerate(["owner", "editor", "viewer", "outsider"])))
def test_add_pages_follow_household_roles(
    client: Client, personas: dict[str, User], model: str, index: int, persona: str
) -> None:
    expected = ADD_PAGE_STATUS.get(model, (200, 200, 403, 200))[index]
    response = login(client, personas[persona]).get(admin_url(model, "add"))
    assert response.status_code == expected


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, books: dict[str, Any]) -> None:
    response = client.get(admin_url("transaction"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_members_cannot_use_the_admin(client: Client, owner: User, books: dict[str, Any]) -> None:
    response = login(client, owner).get(admin_url("transaction"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- the outsider sees nothing ------------------------------------------------------------------------


def test_outsider_cannot_open_another_households_objects(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    login(client, personas["outsider"])
    objects = {
        "household": household,
        "account": books["account"],
        "category": books["groceries"],
        "tag": books["tag"],
        "transaction": books["tx"],
        "membership": Membership.objects.get(user=personas["owner"], household=household),
        "user": personas["owner"],
    }
    for model, obj in objects.items():
        for view in ("change", "delete", "history"):
            response = client.get(admin_url(model, view, obj.pk))
            if model == "user" and view == "delete":
                # Only superusers delete people: refused before the object is even looked up.
                assert response.status_code == 403
                continue
            # Django admin answers a missing object with a redirect to the index ("doesn't exist").
            assert response.status_code == 302, (model, view)
            assert response["Location"] == reverse("admin:index")
        followed = client.get(admin_url(model, "change", obj.pk), follow=True)
        assert str(obj) not in followed.content.decode() or model == "user"
        assert "doesn’t exist" in " ".join(messages_of(followed))


def test_outsider_cannot_post_to_another_households_objects(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    response = login(client, personas["outsider"]).post(
        admin_url("account", "change", books["account"].pk), {"name": "Stolen", "kind": "checking"}
    )
    assert response.status_code == 302
    books["account"].refresh_from_db()
    assert books["account"].name == "Checking"


@pytest.mark.parametrize("model", MODELS)
def test_lists_contain_nothing_of_another_household(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any], model: str
) -> None:
    for persona in ("owner", "editor", "viewer"):
        client.force_login(personas[persona])
        page = client.get(admin_url(model)).content.decode()
        assert SECRET not in page
        assert "oscar" not in page  # not even the outsider's username


def test_outsider_sees_only_their_own_rows(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any]
) -> None:
    response = login(client, personas["outsider"]).get(admin_url("transaction"))
    assert list(response.context["cl"].result_list) == [outsider_books["tx"]]
    assert "Corner shop" not in response.content.decode()


def test_superusers_see_every_household(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any]
) -> None:
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    response = login(client, root).get(admin_url("transaction"))
    assert set(response.context["cl"].result_list) == {books["tx"], outsider_books["tx"]}


# --- choices are drawn from the same scope -----------------------------------------------------------


def test_add_form_choices_contain_only_own_household_rows(
    client: Client,
    personas: dict[str, User],
    books: dict[str, Any],
    outsider_books: dict[str, Any],
    household: Household,
    outsider_household: Household,
) -> None:
    editors_households = set(Household.objects.filter(memberships__user=personas["editor"]))
    assert editors_households == {household, Household.objects.get(name="eddie's household")}
    response = login(client, personas["editor"]).get(admin_url("transaction", "add"))
    form = response.context["adminform"].form
    assert list(form.fields["account"].queryset) == [books["account"]]
    assert set(form.fields["category"].queryset) == set(Category.objects.filter(household=household))
    split_formset, tag_formset, _receipts = (inline.formset for inline in response.context["inline_admin_formsets"])
    assert set(split_formset.forms[0].fields["category"].queryset) == set(Category.objects.filter(household=household))
    assert list(tag_formset.forms[0].fields["tag"].queryset) == [books["tag"]]
    assert SECRET not in response.content.decode()

    for model, field in [("account", "household"), ("category", "household"), ("rule", "household")]:
        response = client.get(admin_url(model, "add"))
        assert set(response.context["adminform"].form.fields[field].queryset) == editors_households
        assert SECRET not in response.content.decode()


def test_viewer_add_forms_offer_no_household_they_only_view(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    # A viewer may add a token for themselves, but no row into the household they only view.
    response = login(client, personas["viewer"]).get(admin_url("transfer", "add"))
    assert response.status_code == 403


def test_autocomplete_returns_only_own_rows(
    client: Client,
    personas: dict[str, User],
    books: dict[str, Any],
    outsider_books: dict[str, Any],
    household: Household,
) -> None:
    response = login(client, personas["editor"]).get(
        "/admin/autocomplete/", {"app_label": "ledger", "model_name": "transaction", "field_name": "category"}
    )
    assert response.status_code == 200
    ids = {int(result["id"]) for result in response.json()["results"]}
    assert ids == set(Category.objects.filter(household=household).values_list("pk", flat=True))

    searched = client.get(
        "/admin/autocomplete/",
        {"app_label": "ledger", "model_name": "transaction", "field_name": "category", "term": SECRET},
    )
    assert searched.json()["results"] == []


def test_viewer_autocomplete_offers_nothing_to_write_into(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    response = login(client, personas["viewer"]).get(
        "/admin/autocomplete/", {"app_label": "ledger", "model_name": "transaction", "field_name": "category"}
    )
    assert response.json()["results"] == []


def test_list_filters_offer_only_own_rows(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any]
) -> None:
    page = login(client, personas["owner"]).get(admin_url("transaction")).content.decode()
    assert "Checking" in page
    assert SECRET not in page


# --- roles decide writes -----------------------------------------------------------------------------


def test_viewer_cannot_change_anything(client: Client, personas: dict[str, User], books: dict[str, Any]) -> None:
    login(client, personas["viewer"])
    page = client.get(admin_url("account", "change", books["account"].pk))
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()

    for model, obj, data in [
        ("account", books["account"], {"name": "Renamed", "kind": "checking"}),
        ("category", books["travel"], {"name": "Renamed", "kind": "expense"}),
        ("tag", books["tag"], {"name": "renamed"}),
        ("transaction", books["tx"], {"payee": "Renamed"}),
    ]:
        assert client.post(admin_url(model, "change", obj.pk), data).status_code == 403
        assert client.post(admin_url(model, "delete", obj.pk), {"post": "yes"}).status_code == 403
    books["account"].refresh_from_db()
    assert books["account"].name == "Checking"
    assert Transaction.objects.filter(pk=books["tx"].pk, payee="Corner shop").exists()


def test_viewer_cannot_run_bulk_actions(client: Client, personas: dict[str, User], books: dict[str, Any]) -> None:
    response = login(client, personas["viewer"]).post(
        admin_url("transaction"), {"action": "mark_cleared", "_selected_action": [books["tx"].pk]}
    )
    # The action is not offered to a viewer, so Django refuses the choice ("No action selected").
    assert response.status_code == 302
    books["tx"].refresh_from_db()
    assert books["tx"].status == TransactionStatus.PENDING


def test_editor_changes_an_account_through_the_form(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("account", "change", books["account"].pk)))
    data["name"] = "Main checking"
    response = client.post(admin_url("account", "change", books["account"].pk), data)
    assert response.status_code == 302
    books["account"].refresh_from_db()
    assert books["account"].name == "Main checking"


def test_it_shows_service_validation_errors_on_the_form(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    login(client, personas["editor"])
    response = client.post(
        admin_url("account", "add"),
        {
            "household": household.pk,
            "name": "Yen",
            "kind": "cash",
            "currency": "JPY",
            "opening_balance": "10.50",
            "opening_date": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert "JPY amounts take no decimal places" in str(response.context["adminform"].form.errors)
    assert not Account.objects.filter(name="Yen").exists()


def test_nobody_adds_a_member_by_name_in_the_admin(
    client: Client, personas: dict[str, User], household: Household
) -> None:
    newcomer = UserFactory(username="nina")
    data = {"household": household.pk, "user": "nina", "role": Role.VIEWER}
    for persona in ("owner", "editor"):
        assert login(client, personas[persona]).post(admin_url("membership", "add"), data).status_code == 403
    assert not Membership.objects.filter(user=newcomer, household=household).exists()


def test_the_last_owner_cannot_leave(client: Client, personas: dict[str, User], household: Household) -> None:
    membership = Membership.objects.get(household=household, user=personas["owner"])
    response = login(client, personas["owner"]).post(
        admin_url("membership", "delete", membership.pk), {"post": "yes"}, follow=True
    )
    assert "at least one owner" in " ".join(messages_of(response))
    assert Membership.objects.filter(pk=membership.pk).exists()


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
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    data = split_post(
        books["account"], "-50.00", [(books["groceries"], "-30.00"), (books["travel"], "-20.00")], [books["tag"]]
    )
    response = login(client, personas["editor"]).post(admin_url("transaction", "add"), data)
    assert response.status_code == 302
    tx = Transaction.objects.get(payee="Hypermarket")
    assert sorted(tx.splits.values_list("amount", flat=True)) == [Decimal("-30.00"), Decimal("-20.00")]
    assert list(tx.tags.all()) == [books["tag"]]
    assert tx.created_by == personas["editor"]
    assert tx.household_id == books["account"].household_id


def test_splits_that_do_not_sum_give_a_form_error(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    data = split_post(books["account"], "-50.00", [(books["groceries"], "-30.00"), (books["travel"], "-10.00")])
    response = login(client, personas["editor"]).post(admin_url("transaction", "add"), data)
    assert response.status_code == 200
    assert "Splits sum to -40.00 but the amount is -50.00" in str(response.context["adminform"].form.non_field_errors())
    assert not Transaction.objects.filter(payee="Hypermarket").exists()


def test_editor_replaces_split_lines_on_a_transaction(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    tx = transaction_create(
        account=books["account"],
        date=datetime.date(2024, 4, 1),
        amount="-10.00",
        splits=[SplitLine(books["groceries"], Decimal("-6.00")), SplitLine(books["travel"], Decimal("-4.00"))],
    )
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("transaction", "change", tx.pk)))
    data["amount"] = "-12.00"
    data["splits-1-amount"] = "-6.00"
    response = client.post(admin_url("transaction", "change", tx.pk), data)
    assert response.status_code == 302
    assert sorted(Split.objects.filter(transaction=tx).values_list("amount", flat=True)) == [Decimal("-6.00")] * 2


def reconciled_transaction(books: dict[str, Any]) -> Transaction:
    tx = transaction_create(account=books["account"], date=datetime.date(2024, 2, 1), amount="-25.00", payee="Rent")
    account_reconcile(account=books["account"], statement_date=datetime.date(2024, 2, 28), statement_balance="-25.00")
    tx.refresh_from_db()
    assert tx.status == TransactionStatus.RECONCILED
    return tx


def test_reconciled_transaction_edit_shows_the_error_and_leaves_the_row(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    tx = reconciled_transaction(books)
    login(client, personas["editor"])
    data = form_data(client.get(admin_url("transaction", "change", tx.pk)))
    data["amount"] = "-26.00"
    response = client.post(admin_url("transaction", "change", tx.pk), data, follow=True)
    assert any("is reconciled: un-reconcile it" in text for text in messages_of(response))
    tx.refresh_from_db()
    assert tx.amount == Decimal("-25.00")


def test_reconciled_transaction_cannot_be_deleted(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    tx = reconciled_transaction(books)
    response = login(client, personas["editor"]).post(
        admin_url("transaction", "delete", tx.pk), {"post": "yes"}, follow=True
    )
    assert any("reconciled" in text for text in messages_of(response))
    assert Transaction.objects.filter(pk=tx.pk).exists()


def test_editor_deletes_a_transaction_through_the_service(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    response = login(client, personas["editor"]).post(
        admin_url("transaction", "delete", books["tx"].pk), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Transaction.objects.filter(pk=books["tx"].pk).exists()


def test_deleting_one_side_of_a_transfer_deletes_both(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    savings = account_create(
        household=household, name="Savings", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    transfer = transfer_create(
        from_account=books["account"], to_account=savings, date=datetime.date(2024, 3, 5), amount="100.00"
    )
    side = transfer.transactions.first()
    assert side is not None
    login(client, personas["editor"]).post(admin_url("transaction", "delete", side.pk), {"post": "yes"})
    assert not Transfer.objects.filter(pk=transfer.pk).exists()
    assert not Transaction.objects.filter(transfer_id=transfer.pk).exists()


def test_editor_creates_a_transfer_in_the_admin(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    savings = account_create(
        household=household, name="Savings", currency="EUR", opening_date=datetime.date(2024, 1, 1)
    )
    response = login(client, personas["editor"]).post(
        admin_url("transfer", "add"),
        {
            "from_account": books["account"].pk,
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
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    response = login(client, personas["editor"]).post(
        admin_url("reconciliation", "add"),
        {"account": books["account"].pk, "statement_date": "2024-03-31", "statement_balance": "-1.00"},
    )
    assert response.status_code == 200
    assert "difference" in str(response.context["adminform"].form.non_field_errors())
    assert not Reconciliation.objects.exists()


# --- bulk actions --------------------------------------------------------------------------------------


def test_mark_cleared_action_clears_pending_rows(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    response = login(client, personas["editor"]).post(
        admin_url("transaction"), {"action": "mark_cleared", "_selected_action": [books["tx"].pk]}, follow=True
    )
    assert "Marked cleared 1 transaction(s)." in messages_of(response)
    books["tx"].refresh_from_db()
    assert books["tx"].status == TransactionStatus.CLEARED


def test_set_category_action_asks_for_a_category_then_sets_it(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any]
) -> None:
    login(client, personas["editor"])
    selection = {"action": "set_category", "_selected_action": [books["tx"].pk]}
    page = client.post(admin_url("transaction"), selection)
    assert page.status_code == 200
    assert "admin/ledger/transaction/set_category.html" in [t.name for t in page.templates]
    assert outsider_books["category"] not in page.context["form"].fields["category"].queryset
    assert SECRET not in page.content.decode()

    response = client.post(
        admin_url("transaction"), {**selection, "apply": "1", "category": books["travel"].pk}, follow=True
    )
    assert "Set the category of 1 transaction(s)." in messages_of(response)
    books["tx"].refresh_from_db()
    assert books["tx"].category == books["travel"]


def test_set_category_refuses_another_households_category(
    client: Client, personas: dict[str, User], books: dict[str, Any], outsider_books: dict[str, Any]
) -> None:
    selection = {"action": "set_category", "_selected_action": [books["tx"].pk], "apply": "1"}
    page = login(client, personas["editor"]).post(
        admin_url("transaction"), {**selection, "category": outsider_books["category"].pk}
    )
    assert page.status_code == 200
    assert page.context["form"].errors
    books["tx"].refresh_from_db()
    assert books["tx"].category == books["groceries"]


def test_export_csv_action_neutralises_spreadsheet_formulas(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    risky = TransactionFactory(
        account=books["account"], payee='=HYPERLINK("http://evil")', description="@SUM(A1)", amount=Decimal("-5.00")
    )
    response = login(client, personas["viewer"]).post(
        admin_url("transaction"), {"action": "export_csv", "_selected_action": [risky.pk, books["tx"].pk]}
    )
    assert response["Content-Type"].startswith("text/csv")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    assert rows[str(risky.pk)]["payee"] == '\'=HYPERLINK("http://evil")'
    assert rows[str(risky.pk)]["description"] == "'@SUM(A1)"
    assert rows[str(risky.pk)]["amount"] == "-5.00"
    assert rows[str(books["tx"].pk)]["tags"] == "holiday"
    assert rows[str(books["tx"].pk)]["category"] == "Food › Groceries"


# --- API tokens ---------------------------------------------------------------------------------------


def test_it_creates_a_token_and_shows_the_secret_once(client: Client, personas: dict[str, User]) -> None:
    response = login(client, personas["editor"]).post(admin_url("apitoken", "add"), {"name": "laptop"}, follow=True)
    secret = next(text for text in messages_of(response) if "will not be shown again" in text).rsplit(" ", 1)[-1]
    token = ApiToken.objects.get(user=personas["editor"], name="laptop")
    assert token.key_hash == token_hash(secret)
    assert secret not in client.get(admin_url("apitoken")).content.decode()
    assert secret not in client.get(admin_url("apitoken", "change", token.pk)).content.decode()


def test_it_revokes_tokens_and_lists_only_your_own(client: Client, personas: dict[str, User]) -> None:
    mine, _secret = api_token_create(user=personas["editor"], name="mine")
    theirs, _secret = api_token_create(user=personas["owner"], name="theirs")
    login(client, personas["editor"])
    page = client.get(admin_url("apitoken"))
    assert list(page.context["cl"].result_list) == [mine]
    assert mine.prefix in page.content.decode()
    client.post(admin_url("apitoken"), {"action": "revoke_tokens", "_selected_action": [mine.pk, theirs.pk]})
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.revoked_at is not None
    assert theirs.revoked_at is None


# --- query counts ------------------------------------------------------------------------------------


def fill_household(books: dict[str, Any], count: int) -> None:
    for index in range(count):
        tx = transaction_create(
            account=books["account"],
            date=datetime.date(2024, 5, 1 + index % 28),
            amount="-3.00",
            payee=f"Bakery {index}",
            tags=[books["tag"]],
            splits=[SplitLine(books["groceries"], Decimal("-2.00")), SplitLine(books["travel"], Decimal("-1.00"))],
        )
        assert tx.pk


def changelist_queries(client: Client, url: str) -> int:
    # Sessions are cached in Redis, which parallel test workers clear: always read the session from the database.
    clear_this_workers_cache()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


# Every list page starts with five: session, user, the user's and the group's permissions, household roles.
# Then its own, none of them per row: filter choices, one count (no second "full" count), the page of rows.
LIST_QUERIES = {
    "household": 7,  # count, rows
    "membership": 8,  # household filter, count, rows (user and household joined)
    "user": 8,  # count, rows, and Django's own is_staff/superuser/active filters need no query
    "apitoken": 8,  # count, rows (user joined), and the revoked filter
    "account": 8,  # household filter, count, rows with balances from the monthly totals
    "category": 8,  # household filter, count, rows (parent joined)
    "tag": 8,  # household filter, count, rows
    # account, category, tag and household filters; count; the page of rows (account and category joined);
    # split lines; tags; the date hierarchy's first/last date and its months.
    "transaction": 15,
    "transfer": 8,  # household filter, count, rows, both sides with their accounts
    "reconciliation": 10,  # account filter, count, rows, the date hierarchy's range and years
    "rule": 8,  # household filter, count, rows (category and household joined)
    "auditentry": 11,  # household and object type filters, count, rows, the date hierarchy's range and days
}


@pytest.mark.parametrize("model", MODELS)
def test_list_query_count_is_pinned_and_does_not_grow_with_rows(
    client: Client,
    personas: dict[str, User],
    books: dict[str, Any],
    model: str,
    django_assert_max_num_queries: Any,
) -> None:
    login(client, personas["owner"])
    url = admin_url(model)
    fill_household(books, 5)
    few = changelist_queries(client, url)
    assert few == LIST_QUERIES[model]
    fill_household(books, 45)
    with django_assert_max_num_queries(LIST_QUERIES[model]):
        many = changelist_queries(client, url)
    assert many == few


# --- rules and history -------------------------------------------------------------------------------


def test_editor_adds_a_rule_with_tags_through_the_rules_service(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    data = {
        "household": household.pk,
        "name": "Shop",
        "position": "1",
        "is_active": "on",
        "match": "all",
        "conditions": '[{"field": "payee", "operator": "contains", "value": "shop"}]',
        "set_category": books["travel"].pk,
        "set_payee": "",
        "tag_links-TOTAL_FORMS": "1",
        "tag_links-INITIAL_FORMS": "0",
        "tag_links-MIN_NUM_FORMS": "0",
        "tag_links-MAX_NUM_FORMS": "1000",
        "tag_links-0-tag": books["tag"].pk,
    }
    response = login(client, personas["editor"]).post(admin_url("rule", "add"), data)
    assert response.status_code == 302
    rule = Rule.objects.get(household=household, name="Shop")
    assert list(rule.add_tags.all()) == [books["tag"]]

    applied = client.post(
        admin_url("transaction"), {"action": "apply_rules", "_selected_action": [books["tx"].pk]}, follow=True
    )
    assert "Rules changed 1 transaction(s)." in messages_of(applied)
    books["tx"].refresh_from_db()
    assert books["tx"].category == books["travel"]


def test_a_rule_with_bad_conditions_shows_the_error_on_the_form(
    client: Client, personas: dict[str, User], household: Household
) -> None:
    data = {
        "household": household.pk,
        "name": "Broken",
        "position": "1",
        "match": "all",
        "conditions": '[{"field": "colour", "operator": "is", "value": "red"}]',
        "set_payee": "X",
        "tag_links-TOTAL_FORMS": "0",
        "tag_links-INITIAL_FORMS": "0",
    }
    response = login(client, personas["editor"]).post(admin_url("rule", "add"), data)
    assert response.status_code == 200
    assert "field is one of" in str(response.context["adminform"].form.errors)
    assert not Rule.objects.filter(name="Broken").exists()


def test_history_pages_are_scoped(client: Client, personas: dict[str, User], books: dict[str, Any]) -> None:
    response = login(client, personas["viewer"]).get(admin_url("transaction", "history", books["tx"].pk))
    assert response.status_code == 200
    assert "Corner shop" in response.content.decode()


def test_owner_deletes_a_whole_household_reconciled_history_included(
    client: Client, personas: dict[str, User], books: dict[str, Any], household: Household
) -> None:
    reconciled_transaction(books)
    refused = login(client, personas["editor"]).post(admin_url("household", "delete", household.pk), {"post": "yes"})
    assert refused.status_code == 403
    confirm = login(client, personas["owner"]).get(admin_url("household", "delete", household.pk))
    assert dict(confirm.context["model_count"])["transactions"] == 2
    assert not confirm.context["protected"]
    response = login(client, personas["owner"]).post(admin_url("household", "delete", household.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Household.objects.filter(pk=household.pk).exists()
    assert not Transaction.objects.filter(pk=books["tx"].pk).exists()


def test_editor_un_reconciles_with_the_action_not_with_an_edit(
    client: Client, personas: dict[str, User], books: dict[str, Any]
) -> None:
    tx = reconciled_transaction(books)
    login(client, personas["editor"])
    page = client.get(admin_url("transaction", "change", tx.pk))
    assert [value for value, _label in page.context["adminform"].form.fields["status"].choices] == ["reconciled"]
    response = client.post(
        admin_url("transaction"), {"action": "unreconcile", "_selected_action": [tx.pk]}, follow=True
    )
    assert "Un-reconciled 1 transaction(s)." in messages_of(response)
    tx.refresh_from_db()
    assert tx.status == TransactionStatus.CLEARED


def test_viewer_with_a_household_of_their_own_still_cannot_touch_the_one_they_view(
    client: Client, viewer: User, books: dict[str, Any]
) -> None:
    # Unlike the `personas` viewer, this one keeps the personal household sign-up gave them, so the
    # actions are offered: they must change nothing outside that household.
    login(client, staff_member(viewer))
    selection = {"_selected_action": [books["tx"].pk]}
    response = client.post(admin_url("transaction"), {**selection, "action": "mark_cleared"}, follow=True)
    assert "Marked cleared 0 transaction(s)." in messages_of(response)
    client.post(
        admin_url("transaction"), {**selection, "action": "set_category", "apply": "1", "category": books["travel"].pk}
    )
    client.post(admin_url("transaction"), {**selection, "action": "delete_selected", "post": "yes"})
    books["tx"].refresh_from_db()
    assert (books["tx"].status, books["tx"].category) == (TransactionStatus.PENDING, books["groceries"])
    assert client.post(admin_url("transaction", "change", books["tx"].pk), {"payee": "x"}).status_code == 403
