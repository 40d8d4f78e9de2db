"""Categories learned from the household's own books: suggested for imported rows no rule categorises,
shown with their confidence, applied only when accepted, and never over a rule."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ledger.models import Transaction
from ledger.rules import rule_create
from tests.factories import CategoryFactory, TransactionFactory
from uploads.services.statement_imports import statement_import_commit
from uploads.suggestions import Classifier, classifier_for, clean_payee, tokens

pytestmark = pytest.mark.django_db

STATEMENT = b"Date,Payee,Amount\n2024-05-02,BAKERY CENTRAL 4711,-3.10\n2024-05-03,Unknown Place,-9.00\n"


def test_the_classifier_prefers_the_category_whose_words_it_has_seen():
    classifier = Classifier()
    classifier.learn(1, tokens("Bakery Central", ""))
    classifier.learn(1, tokens("Bakery Corner", ""))
    classifier.learn(2, tokens("Central Station", "tram ticket"))
    prediction = classifier.predict(tokens("BAKERY CENTRAL 4711", ""))
    assert prediction is not None
    category, confidence = prediction
    assert category == 1 and 0.5 < confidence <= 1
    assert classifier.predict(tokens("Nothing known", "")) is None


def test_a_cleaned_payee_drops_card_numbers_and_shouting():
    assert clean_payee("POS 1234 BAKERY MUELLER*BERLIN 0815") == "Bakery Mueller Berlin"
    assert clean_payee("Café Olé") == "Café Olé"


@pytest.fixture
def food(household):
    return CategoryFactory(household=household, name="Food")


def categorised_in_april(account, day: int, category, payee: str, description: str = ""):
    """A -2.00 purchase on April `day` the household already filed under `category`: what the classifier learns."""
    return TransactionFactory(
        account=account,
        household=account.household,
        date=datetime.date(2024, 4, day),
        amount=Decimal("-2.00"),
        payee=payee,
        description=description,
        category=category,
    )


@pytest.fixture
def history(account, food):
    transport = CategoryFactory(household=account.household, name="Transport")
    for day, payee, category in [(1, "Bakery Central", food), (8, "Bakery Central", food), (9, "Tram", transport)]:
        categorised_in_april(account, day, category, payee)
    return food


def test_preview_suggests_a_category_with_its_confidence_and_a_cleaned_payee(account, import_bytes, history):
    preview = import_bytes(account, STATEMENT)
    bakery = preview.rows.get(payee="BAKERY CENTRAL 4711")
    assert bakery.suggested_category_id == history.pk
    assert 0.5 <= bakery.suggestion_confidence <= 1
    assert bakery.suggested_payee == "Bakery Central"
    assert preview.rows.get(payee="Unknown Place").suggested_category_id is None


def test_a_suggestion_is_applied_only_when_accepted(account, import_bytes, history):
    preview = import_bytes(account, STATEMENT)
    statement_import_commit(statement_import=preview)
    assert Transaction.objects.get(account=account, amount=Decimal("-3.10")).category_id is None


def test_accepting_a_suggestion_sets_it_and_teaches_the_next_import(account, import_bytes, history):
    before = classifier_for(account.household_id).predict(tokens("Bakery Central", ""))
    preview = import_bytes(account, STATEMENT)
    bakery = preview.rows.get(payee="BAKERY CENTRAL 4711")
    statement_import_commit(statement_import=preview, accept=[bakery.pk])
    created = Transaction.objects.get(account=account, amount=Decimal("-3.10"))
    assert created.category_id == history.pk
    assert created.payee == "Bakery Central"
    after = classifier_for(account.household_id).predict(tokens("Bakery Central", ""))
    assert before is not None and after is not None and after[1] > before[1]


def test_rules_win_over_suggestions(account, import_bytes, history):
    treats = CategoryFactory(household=account.household, name="Treats")
    rule_create(
        household=account.household,
        name="Bakery",
        conditions=[{"field": "payee", "operator": "contains", "value": "bakery"}],
        set_category=treats,
    )
    preview = import_bytes(account, STATEMENT)
    # The rule categorises the row, so nothing is suggested; accepting everything changes nothing.
    assert preview.rows.get(payee="BAKERY CENTRAL 4711").suggested_category_id is None
    statement_import_commit(statement_import=preview, accept_suggestions=True)
    assert Transaction.objects.get(account=account, amount=Decimal("-3.10")).category_id == treats.pk


def test_the_wizard_preview_shows_the_suggestion_and_commits_it_ticked(admin_client, account, import_bytes, history):
    preview = import_bytes(account, STATEMENT)
    bakery = preview.rows.get(payee="BAKERY CENTRAL 4711")
    url = f"/admin/uploads/statementimport/{preview.pk}/wizard/preview/"
    page = admin_client.get(url).content.decode()
    assert "Food (" in page and "% sure" in page
    assert admin_client.post(url, {"accept": [str(bakery.pk)]}).status_code == 302
    assert Transaction.objects.get(account=account, amount=Decimal("-3.10")).category_id == history.pk


def test_learning_a_household_at_once_is_learning_it_row_by_row(account, food):
    """classifier_for counts each category's words in one pass; the model must be the one `learn` builds."""
    transport = CategoryFactory(household=account.household, name="Transport")
    texts = [
        ("POS 1234 BAKERY MUELLER*BERLIN", "Kartenzahlung 01.02.", food),
        ("Straße_Café Ünïcode", "Fahrschein\nzone AB 2x", transport),
        ("Bakery", "", food),
        ("", "tram TRAM tram", transport),
        ("DB Fernverkehr", "ICE 1234 ßtraße", transport),
    ]
    for day, (payee, description, category) in enumerate(texts, start=1):
        categorised_in_april(account, day, category, payee, description)
    row_by_row = Classifier()
    for payee, description, category in reversed(texts):  # classifier_for reads the newest first
        row_by_row.learn(category.pk, tokens(payee, description))
    at_once = classifier_for(account.household_id)
    assert at_once.documents == row_by_row.documents
    assert at_once.words == row_by_row.words
    assert +at_once.totals == +row_by_row.totals
    assert at_once.vocabulary == row_by_row.vocabulary
    assert list(at_once.documents) == list(row_by_row.documents)  # ties go to the same category
