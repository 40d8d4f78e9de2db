"""The back office: every page scoped to the signed-in person's households, roles decide writes, services write."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from ledger.models import (
    Category,
    Household,
    Membership,
    Transaction,
    User,
)
from tests.factories import Books
from tests.ledger.back_office import SECRET, admin_url, login, messages_of

# --- pages each persona may open ---------------------------------------------------------------------
# Every changelist and add page, for every persona and every app: tests/test_admin_personas.py.


def test_it_sends_anonymous_visitors_to_the_login_page(client: Client, books: Books) -> None:
    response = client.get(admin_url("transaction"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_non_staff_members_cannot_use_the_admin(client: Client, owner: User, books: Books) -> None:
    response = login(client, owner).get(admin_url("transaction"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# --- the outsider sees nothing ------------------------------------------------------------------------


def test_outsider_cannot_open_another_households_objects(
    client: Client, personas: dict[str, User], books: Books, purchase: Transaction, household: Household
) -> None:
    login(client, personas["outsider"])
    objects = {
        "household": household,
        "account": books.checking,
        "category": books.groceries,
        "tag": books.holiday,
        "transaction": purchase,
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
    client: Client, personas: dict[str, User], books: Books
) -> None:
    response = login(client, personas["outsider"]).post(
        admin_url("account", "change", books.checking.pk), {"name": "Stolen", "kind": "checking"}
    )
    assert response.status_code == 302
    books.checking.refresh_from_db()
    assert books.checking.name == "Checking"


def test_outsider_sees_only_their_own_rows(
    client: Client, personas: dict[str, User], books: Books, outsider_books: Books, their_purchase: Transaction
) -> None:
    response = login(client, personas["outsider"]).get(admin_url("transaction"))
    assert list(response.context["cl"].result_list) == [their_purchase]
    assert "Corner shop" not in response.content.decode()


def test_superusers_see_every_household(
    client: Client,
    personas: dict[str, User],
    books: Books,
    purchase: Transaction,
    outsider_books: Books,
    their_purchase: Transaction,
) -> None:
    root = User.objects.create_superuser("root", "root@example.test", "pw")
    response = login(client, root).get(admin_url("transaction"))
    assert set(response.context["cl"].result_list) == {purchase, their_purchase}


# --- choices are drawn from the same scope -----------------------------------------------------------


def test_add_form_choices_contain_only_own_household_rows(
    client: Client,
    personas: dict[str, User],
    books: Books,
    outsider_books: Books,
    household: Household,
    outsider_household: Household,
) -> None:
    editors_households = set(Household.objects.filter(memberships__user=personas["editor"]))
    assert editors_households == {household, Household.objects.get(name="eddie's household")}
    response = login(client, personas["editor"]).get(admin_url("transaction", "add"))
    form = response.context["adminform"].form
    assert set(form.fields["account"].queryset) == {books.checking, books.savings}
    assert set(form.fields["category"].queryset) == set(Category.objects.filter(household=household))
    split_formset, tag_formset, _receipts = (inline.formset for inline in response.context["inline_admin_formsets"])
    assert set(split_formset.forms[0].fields["category"].queryset) == set(Category.objects.filter(household=household))
    assert list(tag_formset.forms[0].fields["tag"].queryset) == [books.holiday]
    assert SECRET not in response.content.decode()

    for model, field in [("account", "household"), ("category", "household"), ("rule", "household")]:
        response = client.get(admin_url(model, "add"))
        assert set(response.context["adminform"].form.fields[field].queryset) == editors_households
        assert SECRET not in response.content.decode()


def test_viewer_add_forms_offer_no_household_they_only_view(
    client: Client, personas: dict[str, User], books: Books
) -> None:
    # A viewer may add a token for themselves, but no row into the household they only view.
    response = login(client, personas["viewer"]).get(admin_url("transfer", "add"))
    assert response.status_code == 403


def test_autocomplete_returns_only_own_rows(
    client: Client,
    personas: dict[str, User],
    books: Books,
    outsider_books: Books,
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
    client: Client, personas: dict[str, User], books: Books
) -> None:
    response = login(client, personas["viewer"]).get(
        "/admin/autocomplete/", {"app_label": "ledger", "model_name": "transaction", "field_name": "category"}
    )
    assert response.json()["results"] == []


def test_list_filters_offer_only_own_rows(
    client: Client, personas: dict[str, User], books: Books, outsider_books: Books
) -> None:
    page = login(client, personas["owner"]).get(admin_url("transaction")).content.decode()
    assert "Checking" in page
    assert SECRET not in page
