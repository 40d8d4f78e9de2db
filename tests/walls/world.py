"""Two households seeded with one of everything, each row carrying its household's marker.

A response shown to a member of one household must never contain the other's marker (a name, a payee, an
amount): the matrix greps every body and header for it.
"""

from __future__ import annotations

import datetime
import functools
import io
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from budgets.models import ExchangeRate
from budgets.services.budget_lines import budget_set
from budgets.services.rates import exchange_rate_create
from budgets.services.schedules import scheduled_create
from financetracker.core.tenancy import forget_household_roles
from ledger.admin.scoping import household_members_group
from ledger.models import Account, AuditEntry, Household, Membership, Role, User
from ledger.rules import rule_create
from ledger.services import accounts_categories_tags as account_services
from ledger.services.households import household_delete, membership_set
from ledger.services.invitations import invitation_create
from ledger.services.tokens import api_token_create
from ledger.services.transactions import SplitLine, account_reconcile, transaction_create, transfer_create
from tests.factories import UserFactory, staff_member
from uploads.services.attachments import attachment_create
from uploads.services.statement_imports import csv_profile_save, statement_import_preview, statement_import_upload

DAY = datetime.date(2024, 2, 1)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
# An id no row has: another household's id must answer exactly like this one.
MISSING_ID = 987654321
# Rows every household shares: the same id in both, so never probed as another household's.
GLOBAL_KEYS = frozenset({"rate", "group", "account_type"})


@dataclass
class Seeded:
    """One household's rows, by the keys the expectation table names (`obj="account"`)."""

    household: Household
    marker: str
    amount_marker: str  # an amount no other row has, as the API writes it
    ids: dict[str, int] = field(default_factory=dict)

    def markers(self) -> tuple[str, ...]:
        whole, cents = self.amount_marker.lstrip("-").split(".")
        # The admin shows amounts with thousands separators.
        grouped = f"{int(whole):,}.{cents}"
        return (self.marker, self.amount_marker.lstrip("-"), grouped)


def seed_household(household: Household, owner: User, marker: str, amount: str, statement_amount: str) -> Seeded:
    seeded = Seeded(household=household, marker=marker, amount_marker=amount)
    name = marker.title()
    household.name = f"{marker} household"
    household.save(update_fields=["name"])
    account = account_services.account_create(
        household=household, name=f"{marker} checking", currency="EUR", opening_date=DAY
    )
    savings = account_services.account_create(
        household=household, name=f"{marker} savings", currency="EUR", opening_date=DAY
    )
    parent = account_services.category_create(household=household, name=f"{marker} food")
    child = account_services.category_create(household=household, name=f"{marker} groceries", parent=parent)
    tag = account_services.tag_create(household=household, name=f"{marker}-tag")
    tx = transaction_create(
        account=account,
        date=DAY,
        amount=amount,
        payee=f"{marker} payee",
        description=f"{name} description",
        tags=[tag],
        splits=[SplitLine(category=child, amount=Decimal(amount))],
        user=owner,
    )
    reconciled = transaction_create(account=savings, date=DAY, amount="-1.00", payee=f"{marker} fee", user=owner)
    reconciliation = account_reconcile(account=savings, statement_date=DAY, statement_balance="-1.00", user=owner)
    reconciled.refresh_from_db()
    transfer = transfer_create(
        from_account=account, to_account=savings, date=DAY, amount="5.00", description=f"{marker} transfer", user=owner
    )
    rule = rule_create(
        household=household,
        name=f"{marker} rule",
        conditions=[{"field": "payee", "operator": "contains", "value": f"{marker} payee"}],
        set_category=child,
    )
    budget = budget_set(household=household, category=child, month=DAY, amount=amount.lstrip("-"))
    scheduled = scheduled_create(
        household=household,
        account=account,
        amount=Decimal(amount),
        payee=f"{marker} rent",
        recurrence="FREQ=MONTHLY",
        start_date=DAY,
    )
    attachment = attachment_create(
        household=household,
        upload=io.BytesIO(PDF + marker.encode()),
        original_name=f"{marker}-receipt.pdf",
        transaction_obj=tx,
        user=owner,
    )
    mapping = {"delimiter": ",", "date": "Date", "payee": "Payee", "amount": "Amount"}
    statement = statement_import_upload(
        account=account,
        upload=io.BytesIO(f"Date,Payee,Amount\n2024-02-03,{marker} import,{statement_amount}\n".encode()),
        original_name=f"{marker}-statement.csv",
        mapping=mapping,
        user=owner,
    )
    statement = statement_import_preview(statement_import=statement)
    profile = csv_profile_save(account=account, name=f"{marker} profile", mapping=mapping)
    membership = Membership.objects.get(household=household, user=owner)
    # Addressed to nobody among the personas: only its household's owners see it, from the sending side.
    invitation, _code = invitation_create(
        household=household, invited_by=owner, invited_as=f"{marker}-friend", role=Role.VIEWER
    )
    seeded.ids = {
        "household": household.pk,
        "account": account.pk,
        "category": child.pk,
        "parent_category": parent.pk,
        "tag": tag.pk,
        "transaction": tx.pk,
        "reconciled_transaction": reconciled.pk,
        "reconciliation": reconciliation.pk,
        "transfer": transfer.pk,
        "rule": rule.pk,
        "budget": budget.pk,
        "scheduled": scheduled.pk,
        "attachment": attachment.pk,
        "statement_import": statement.pk,
        "csv_profile": profile.pk,
        "membership": membership.pk,
        "invitation": invitation.pk,
        "owner": owner.pk,
        "audit": AuditEntry.objects.filter(household=household).latest("id").pk,
        "token": api_token_create(user=owner, name=f"{marker} token")[0].pk,
        # Global rows: the same in both households, so not probed as another household's.
        "account_type": ContentType.objects.get_for_model(Account).pk,
        "group": household_members_group().pk,
    }
    return seeded


@dataclass
class World:
    ours: Seeded  # the household of owner, editor and viewer
    theirs: Seeded  # the outsider's household
    people: dict[str, User | None]
    rate_id: int

    def __post_init__(self) -> None:
        for seeded in (self.ours, self.theirs):
            seeded.ids["rate"] = self.rate_id

    def person(self, persona: str) -> User:
        """The signed-in persona's user (the anonymous persona has none)."""
        user = self.people[persona]
        assert user is not None, f"{persona} is not signed in"
        return user

    def home_of(self, persona: str) -> Seeded | None:
        """The household whose rows a persona may see (None: anonymous sees none)."""
        if persona == "anonymous":
            return None
        return self.theirs if persona == "outsider" else self.ours

    def other_of(self, persona: str) -> Seeded:
        return self.ours if persona == "outsider" else self.theirs

    def fingerprints(self) -> dict[int, dict[str, str]]:
        """Both households' fingerprints: the baseline a run of rolled-back calls compares against (probe.call)."""
        return {seeded.household.pk: fingerprint(seeded.household.pk) for seeded in (self.ours, self.theirs)}


PERSONAS = ("anonymous", "owner", "editor", "viewer", "outsider")


def build_world() -> World:
    owner = UserFactory(username="olivia")
    ours = Household.objects.get(memberships__user=owner)
    editor = UserFactory(username="eddie")
    viewer = UserFactory(username="vera")
    membership_set(household=ours, user=editor, role=Role.EDITOR)
    membership_set(household=ours, user=viewer, role=Role.VIEWER)
    for person in (editor, viewer):
        # Signing up made each a personal household; without it the persona holds only its role in ours.
        household_delete(household=Household.objects.get(memberships__user=person, memberships__role=Role.OWNER))
        forget_household_roles(person)
    outsider = UserFactory(username="oscar")
    theirs = Household.objects.get(memberships__user=outsider)
    for person in (owner, editor, viewer, outsider):
        # Every admin user is staff: staff status must grant nothing beyond the person's household roles.
        staff_member(person)
    rate = exchange_rate_create(date=DAY, base="EUR", quote="USD", rate="1.0842")
    assert ExchangeRate.objects.count() == 1
    return World(
        ours=seed_household(ours, owner, "ZEBRAWOOD", "-4321.09", "-17.17"),
        theirs=seed_household(theirs, outsider, "QUOKKAFERN", "-9876.03", "-29.29"),
        people={"anonymous": None, "owner": owner, "editor": editor, "viewer": viewer, "outsider": outsider},
        rate_id=rate.pk,
    )


HOUSEHOLD_TABLES_SQL = """
    SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE c.relkind = 'r' AND a.attname = 'household_id' AND c.relnamespace = 'public'::regnamespace
    ORDER BY c.relname
"""


@functools.cache
def household_tables() -> tuple[str, ...]:
    """The tables with a household_id column (the schema does not change during a test run)."""
    with connection.cursor() as cursor:
        cursor.execute(HOUSEHOLD_TABLES_SQL)
        return tuple(row[0] for row in cursor.fetchall())


def fingerprint(household_id: int) -> dict[str, str]:
    """Every household-owned row's full content, hashed per table: any write shows as a different hash.

    One statement for every table (names from the catalog, read once): each probe takes two fingerprints."""
    digest = "md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), ''))"
    parts = [
        f"(SELECT '{table}'::text, {digest} FROM \"{table}\" t WHERE household_id = %(household)s)"  # noqa: S608
        for table in household_tables()
    ]
    parts.append(f"(SELECT 'ledger_household'::text, {digest} FROM ledger_household t WHERE id = %(household)s)")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), {"household": household_id})
        return dict(cursor.fetchall())
