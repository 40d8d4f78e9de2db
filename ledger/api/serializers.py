"""Thin serializers: shape and field validation here, rules of the books in services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from financetracker.core.api.fields import HouseholdScopedRelatedField, MoneyField, StrictDateField
from financetracker.core.api.strict import QueryStringSerializer, StrictModelSerializer, StrictSerializer
from financetracker.core.money import CURRENCY_CHOICES, format_amount
from ledger.models import (
    Account,
    AccountKind,
    Category,
    CategoryKind,
    Household,
    Membership,
    Role,
    Split,
    Tag,
    Transaction,
    TransactionStatus,
    Transfer,
)
from ledger.services.accounts_categories_tags import (
    ACCOUNT_EDITABLE_FIELDS,
    CATEGORY_EDITABLE_FIELDS,
    TAG_EDITABLE_FIELDS,
)
from ledger.services.households import HOUSEHOLD_EDITABLE_FIELDS
from ledger.services.transactions import TRANSACTION_EDITABLE_FIELDS, TRANSFER_EDITABLE_FIELDS


class MembershipSerializer(StrictModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user", "username", "role", "created_at"]
        read_only_fields = ["id", "user", "username", "created_at"]


class MembershipRoleSerializer(StrictSerializer):
    """A member's new role. People are added by invitation (ledger/api/invitations.py), never by name."""

    role = serializers.ChoiceField(choices=Role.choices)


class HouseholdSerializer(StrictModelSerializer):
    members = MembershipSerializer(source="memberships", many=True, read_only=True)
    role = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", *HOUSEHOLD_EDITABLE_FIELDS.api_fields, "role", "members", "created_at"]
        read_only_fields = ["id", "created_at"]

    def get_role(self, household: Household) -> str | None:
        from ledger.selectors import household_roles

        return household_roles(self.context["request"].user).get(household.pk)

    def validate_budget_month_start_day(self, value: int) -> int:
        if not 1 <= value <= 28:
            raise serializers.ValidationError("Choose a day from 1 to 28.")
        return value


class HouseholdOwnedMeta:
    """The base of a HouseholdOwnedSerializer's Meta: no uniqueness validators, since the service checks
    uniqueness (full_clean), household included."""

    validators: list[object] = []


class HouseholdOwnedSerializer(StrictModelSerializer):
    """`household` may be given on create (defaults to the person's only writable household)."""

    household: Any = HouseholdScopedRelatedField(queryset=Household.objects.all(), required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.instance is not None:
            fields["household"].read_only = True
        return fields


class AccountSerializer(HouseholdOwnedSerializer):
    kind = serializers.ChoiceField(choices=AccountKind.choices, default=AccountKind.CHECKING)
    currency = serializers.ChoiceField(choices=CURRENCY_CHOICES)
    opening_balance = MoneyField(currency_from="currency", required=False)
    opening_date = StrictDateField()
    balance = MoneyField(currency_from="currency", read_only=True)

    class Meta(HouseholdOwnedMeta):
        model = Account
        # Editable fields from the service's declaration; a new model field listed there is generated here.
        fields = ["id", *ACCOUNT_EDITABLE_FIELDS.api_fields, "balance", "created_at", "updated_at"]
        read_only_fields = ["id", "balance", "created_at", "updated_at"]


class BalanceQuerySerializer(QueryStringSerializer):
    as_of = StrictDateField(required=False)


class ReconcileSerializer(StrictSerializer):
    statement_date = StrictDateField()
    statement_balance = MoneyField()


class CategorySerializer(HouseholdOwnedSerializer):
    parent = HouseholdScopedRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)  # type: ignore[assignment]  # djangorestframework-stubs: Field.parent (the serializer) clashes with a field named parent
    kind = serializers.ChoiceField(choices=CategoryKind.choices, required=False)

    class Meta(HouseholdOwnedMeta):
        model = Category
        fields = ["id", *CATEGORY_EDITABLE_FIELDS.api_fields]
        read_only_fields = ["id"]


class TagSerializer(HouseholdOwnedSerializer):
    class Meta(HouseholdOwnedMeta):
        model = Tag
        fields = ["id", *TAG_EDITABLE_FIELDS.api_fields]
        read_only_fields = ["id"]


class SplitSerializer(StrictModelSerializer):
    category = HouseholdScopedRelatedField(queryset=Category.objects.all())
    amount = MoneyField(currency_from="transaction.currency")
    memo = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    class Meta:
        model = Split
        fields = ["category", "amount", "memo"]


class TransactionSerializer(StrictModelSerializer):
    account = HouseholdScopedRelatedField(queryset=Account.objects.all())
    date = StrictDateField()
    amount = MoneyField(currency_from="currency")
    currency = serializers.CharField(read_only=True)
    category = HouseholdScopedRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)
    splits = SplitSerializer(many=True, required=False)
    tags = HouseholdScopedRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    status = serializers.ChoiceField(choices=TransactionStatus.choices, required=False)
    payee = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)

    class Meta:
        model = Transaction
        # The service's declaration, with the account's currency shown beside the amount.
        fields = ["id", "household", *TRANSACTION_EDITABLE_FIELDS.api_fields_showing("amount", "currency")]
        fields += ["transfer", "created_at", "updated_at"]
        read_only_fields = ["id", "household", "currency", "transfer", "created_at", "updated_at"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A transaction is categorised by `category` or by its splits, never both: the service would keep
        # the splits and drop the category, so sending both is refused rather than half honoured.
        splits = attrs.get("splits")
        category = attrs.get("category")
        if category is not None and splits:
            raise serializers.ValidationError(
                {"category": ["A split transaction takes its categories from its splits: send category or splits."]}
            )
        if category is not None and splits is None and self.instance is not None and self.instance.splits.all():
            raise serializers.ValidationError(
                {"category": ['This transaction is split: send "splits": [] with the category to unsplit it.']}
            )
        return attrs


_DATETIME = serializers.DateTimeField(read_only=True)  # DRF's own formatting (time zone, "Z")


def _datetime_formatter() -> Callable[[datetime], str | None]:
    """_DATETIME.to_representation for one page's aware datetimes, the current time zone read once: DRF reads
    it (a thread-local) for every value, 100 times a page. Any other configuration gets DRF's own method."""
    zone = _DATETIME.default_timezone()
    if api_settings.DATETIME_FORMAT != ISO_8601 or zone is None:
        return _DATETIME.to_representation

    def iso_8601(value: datetime) -> str | None:
        if not value or value.utcoffset() is None:
            return _DATETIME.to_representation(value)
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return iso_8601


def transaction_list_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `TransactionSerializer(many=True).data` gives for these rows, built from the dicts of
    `ledger.selectors.transaction_page` (their splits and tags included).

    The list pages are the hottest read: a DRF field per value per row cost more than the SQL behind
    them. TransactionSerializer stays the schema and the write path; tests/ledger/test_api_lean_list.py
    holds the two outputs equal."""
    datetime_out = _datetime_formatter()
    data = []
    for row in rows:
        currency = row["currency"]
        data.append(
            {
                "id": row["id"],
                "household": row["household_id"],
                "account": row["account_id"],
                "date": row["date"].isoformat(),
                "amount": format_amount(row["amount"], currency),
                "currency": currency,
                "payee": row["payee"],
                "description": row["description"],
                "category": row["category_id"],
                "splits": [
                    {
                        "category": line["category"],
                        "amount": format_amount(Decimal(line["amount"]), currency),
                        "memo": line["memo"],
                    }
                    for line in row["split_lines"]
                ],
                "tags": row["tag_ids"],
                "status": row["status"],
                "transfer": row["transfer_id"],
                "created_at": datetime_out(row["created_at"]),
                "updated_at": datetime_out(row["updated_at"]),
            }
        )
    return data


class TransferSerializer(StrictSerializer):
    editable = TRANSFER_EDITABLE_FIELDS  # a pair is not a model form: its fields are typed here, checked equal
    id = serializers.IntegerField(read_only=True)
    household = serializers.IntegerField(source="household_id", read_only=True)
    from_account = HouseholdScopedRelatedField(queryset=Account.objects.all())
    to_account = HouseholdScopedRelatedField(queryset=Account.objects.all())
    date = StrictDateField()
    amount = MoneyField(help_text="Amount leaving from_account, positive.")
    to_amount = MoneyField(required=False, allow_null=True, help_text="Amount arriving, when currencies differ.")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    status = serializers.ChoiceField(
        choices=[TransactionStatus.PENDING, TransactionStatus.CLEARED], default=TransactionStatus.CLEARED
    )
    transactions = serializers.SerializerMethodField()

    def to_representation(self, transfer: Transfer) -> dict[str, Any]:
        sides = list(transfer.transactions.all())
        outgoing = next((side for side in sides if side.amount < 0), None)
        incoming = next((side for side in sides if side.amount > 0), None)
        return {
            "id": transfer.pk,
            "household": transfer.household_id,
            "from_account": outgoing.account_id if outgoing else None,
            "to_account": incoming.account_id if incoming else None,
            "date": outgoing.date.isoformat() if outgoing else None,
            "amount": MoneyField().to_representation((-outgoing.amount, outgoing.account.currency))
            if outgoing
            else None,
            "to_amount": MoneyField().to_representation((incoming.amount, incoming.account.currency))
            if incoming
            else None,
            "description": outgoing.description if outgoing else "",
            "transactions": [side.pk for side in sorted(sides, key=lambda side: side.amount)],
        }

    def get_transactions(self, transfer: Transfer) -> list[int]:  # pragma: no cover - schema only
        return []


class TokenObtainSerializer(StrictSerializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, default="API token")


class TokenSerializer(StrictSerializer):
    token = serializers.CharField()
