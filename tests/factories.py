"""factory-boy factories for every ledger model; other apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import factory
from django.test import Client
from factory.django import DjangoModelFactory as _DjangoModelFactory

from ledger.admin.scoping import household_members_group
from ledger.models import Account, Category, Household, Membership, Role, Split, Tag, Transaction, User
from ledger.services.accounts_categories_tags import account_create, category_create, tag_create
from ledger.services.households import user_sign_up

ModelT = TypeVar("ModelT")


class DjangoModelFactory(_DjangoModelFactory[ModelT]):
    """factory-boy's base with `Factory()` typed as the model it builds (its metaclass call is untyped)."""

    class Meta:
        abstract = True

    if TYPE_CHECKING:

        def __new__(cls, *args: Any, **kwargs: Any) -> ModelT: ...  # type: ignore[misc]  # factory-boy: its metaclass makes Factory() return the model; no stub says so


class UserFactory(DjangoModelFactory[User]):
    """A person signed up as the product signs people up: with a personal household they own."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "correct horse battery staple")

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        existing = model_class.objects.filter(username=kwargs["username"]).first()
        if existing is not None:
            return existing
        return user_sign_up(**kwargs)

    @factory.post_generation
    def save_password(
        obj: User, create: bool, extracted: object, **kwargs: object
    ) -> None:  # factory-boy passes the built object
        if create:
            obj.save(update_fields=["password"])


class HouseholdFactory(DjangoModelFactory[Household]):
    class Meta:
        model = Household

    name = factory.Sequence(lambda n: f"Household {n}")
    base_currency = "EUR"


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    household = factory.SubFactory(HouseholdFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.OWNER


class AccountFactory(DjangoModelFactory[Account]):
    class Meta:
        model = Account

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"Account {n}")
    kind = "checking"
    currency = "EUR"
    opening_balance = Decimal("0.00")
    opening_date = datetime.date(2024, 1, 1)


class CategoryFactory(DjangoModelFactory[Category]):
    class Meta:
        model = Category

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"Category {n}")
    kind = "expense"


class TagFactory(DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    household = factory.SubFactory(HouseholdFactory)
    name = factory.Sequence(lambda n: f"tag{n}")


class TransactionFactory(DjangoModelFactory[Transaction]):
    """Writes a row directly, for fixtures; production code creates transactions through services."""

    class Meta:
        model = Transaction

    account = factory.SubFactory(AccountFactory)
    household = factory.SelfAttribute("account.household")
    date = datetime.date(2024, 3, 15)
    amount = Decimal("-12.30")
    payee = factory.Sequence(lambda n: f"Shop {n}")
    status = "cleared"


class SplitFactory(DjangoModelFactory[Split]):
    class Meta:
        model = Split

    transaction = factory.SubFactory(TransactionFactory)
    household = factory.SelfAttribute("transaction.household")
    category = factory.SubFactory(CategoryFactory, household=factory.SelfAttribute("..household"))
    amount = Decimal("-1.00")


# --- Shared builders: a household's books and the personas every test reasons about ----------------


@dataclass
class Books:
    """A household's chart with hand-computable figures: two accounts, expense and income categories, a tag."""

    household: Household
    checking: Account
    savings: Account
    food: Category
    groceries: Category
    restaurants: Category
    travel: Category
    rent: Category
    salary: Category
    holiday: Tag


def books_for(household: Household, *, prefix: str = "", opened: datetime.date = datetime.date(2023, 1, 1)) -> Books:
    """The one builder of a household's books, through the services (as the product creates them).

    `prefix` names every row (an outsider's books carry a secret the walls tests look for)."""

    def account(name: str, kind: str = "checking") -> Account:
        return account_create(
            household=household, name=f"{prefix}{name}", kind=kind, currency="EUR", opening_date=opened
        )

    def category(name: str, parent: Category | None = None, kind: str = "expense") -> Category:
        return category_create(household=household, name=f"{prefix}{name}", parent=parent, kind=kind)

    food = category("Food")
    return Books(
        household=household,
        checking=account("Checking"),
        savings=account("Savings", kind="savings"),
        food=food,
        groceries=category("Groceries", parent=food),
        restaurants=category("Restaurants", parent=food),
        travel=category("Travel"),
        rent=category("Rent"),
        salary=category("Salary", kind="income"),
        holiday=tag_create(household=household, name=f"{prefix}holiday"),
    )


def staff_member(user: User, *, superuser: bool = False) -> User:
    """Let a person into the admin as the product does: staff, in the household members group (its model
    permissions open the pages; household roles decide the rest). A superuser bypasses both."""
    user.is_staff = True
    user.is_superuser = superuser
    user.save(update_fields=["is_staff", "is_superuser"])
    if not superuser:
        user.groups.add(household_members_group())
    return user


def staff_client(user: User, *, superuser: bool = False) -> Client:
    """A test client signed in to the admin as `user`, let in by staff_member."""
    staff_member(user, superuser=superuser)
    client = Client()
    client.force_login(user)
    return client
