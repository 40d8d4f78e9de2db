"""Accounts, categories, tags, transfers, reconciliations and rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from unfold.widgets import UnfoldAdminDateWidget

from financetracker.authenticated import AuthenticatedHttpRequest
from financetracker.core.admin.fields import AmountFormField
from financetracker.core.money import display_amount, money_html
from ledger.admin.register import register_url
from ledger.admin.scoping import (
    HouseholdScopedAdmin,
    HouseholdScopedInline,
    ListOnlyInline,
    ScopedFilter,
    ScopedModelForm,
    adopt,
    model_choice_field,
    scoped_queryset,
)
from ledger.models import Account, Category, Reconciliation, Rule, RuleTag, Tag, Transaction, Transfer
from ledger.models.accounts_and_transactions import CATEGORY_TREE_ORDER, TransactionStatus
from ledger.rules import RULE_EDITABLE_FIELDS, rule_create, rule_delete, rule_update
from ledger.selectors import accounts_with_balance

if TYPE_CHECKING:
    from ledger.selectors import AccountWithBalance
from ledger.services.accounts_categories_tags import (
    ACCOUNT_EDITABLE_FIELDS,
    CATEGORY_EDITABLE_FIELDS,
    TAG_EDITABLE_FIELDS,
    account_create,
    account_delete,
    account_update,
    category_create,
    category_delete,
    category_update,
    tag_create,
    tag_delete,
    tag_update,
)
from ledger.services.transactions import (
    TRANSFER_EDITABLE_FIELDS,
    account_reconcile,
    transfer_create,
    transfer_delete,
)


@admin.register(Account)
class AccountAdmin(HouseholdScopedAdmin):
    list_display = (
        "name",
        "kind",
        "currency",
        "balance_display",
        "register_link",
        "institution",
        "archived",
        "household",
    )
    list_filter = ("kind", "currency", "archived", ("household", ScopedFilter))
    list_select_related = ("household",)
    search_fields = ("name", "institution")
    fields = ACCOUNT_EDITABLE_FIELDS.admin_fields  # the service's declaration: nothing to keep in step

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Balances come from the monthly totals in the same query: no per-row sums.
        return accounts_with_balance(super().get_queryset(request))

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj: AccountWithBalance) -> str:
        return money_html(obj.balance, obj.currency)

    @admin.display(description="Register")
    def register_link(self, obj: Account) -> str:
        return format_html('<a href="{}" class="ft-register-link">Register</a>', register_url(obj))

    def create_with_service(self, request: HttpRequest, data: dict[str, Any]) -> Account:
        return account_create(**ACCOUNT_EDITABLE_FIELDS.pick(data, owner=True))

    def update_with_service(self, request: HttpRequest, current: Account, changes: dict[str, Any]) -> Account:
        return account_update(account=current, **ACCOUNT_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: Account) -> None:
        account_delete(account=obj)


@admin.register(Category)
class CategoryAdmin(HouseholdScopedAdmin):
    list_display = ("__str__", "kind", "parent", "archived", "household")
    list_filter = ("kind", "archived", ("household", ScopedFilter))
    ordering = CATEGORY_TREE_ORDER
    list_select_related = ("parent", "household")
    search_fields = ("name", "parent__name")
    fields = CATEGORY_EDITABLE_FIELDS.admin_fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "parent":
            # Two levels: only top-level categories can be parents.
            kwargs["queryset"] = scoped_queryset(Category, request, "add", Category).filter(parent__isnull=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def create_with_service(self, request: HttpRequest, data: dict[str, Any]) -> Category:
        return category_create(**CATEGORY_EDITABLE_FIELDS.pick(data, owner=True))

    def update_with_service(self, request: HttpRequest, current: Category, changes: dict[str, Any]) -> Category:
        return category_update(category=current, **CATEGORY_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: Category) -> None:
        category_delete(category=obj)


@admin.register(Tag)
class TagAdmin(HouseholdScopedAdmin):
    list_display = ("name", "household")
    list_filter = (("household", ScopedFilter),)
    list_select_related = ("household",)
    search_fields = ("name",)
    fields = TAG_EDITABLE_FIELDS.admin_fields

    def create_with_service(self, request: HttpRequest, data: dict[str, Any]) -> Tag:
        return tag_create(**TAG_EDITABLE_FIELDS.pick(data, owner=True))

    def update_with_service(self, request: HttpRequest, current: Tag, changes: dict[str, Any]) -> Tag:
        return tag_update(tag=current, **TAG_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: Tag) -> None:
        tag_delete(tag=obj)


class TransferSideInline(ListOnlyInline):
    """The two linked transactions, read-only: edit a side on its transaction page."""

    model = Transaction
    fk_name = "transfer"
    fields = ("account", "date", "amount_display", "payee", "description", "status")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description="Amount")
    def amount_display(self, obj: Transaction) -> str:
        return money_html(obj.amount, obj.account.currency, signed=True)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("account")


class TransferForm(ScopedModelForm):
    from_account = forms.ModelChoiceField(queryset=Account.objects.none())
    to_account = forms.ModelChoiceField(queryset=Account.objects.none())
    date = forms.DateField(widget=UnfoldAdminDateWidget)
    amount = AmountFormField(help_text="The amount sent, positive.")
    to_amount = AmountFormField(required=False, help_text="The amount received, when the accounts' currencies differ.")
    description = forms.CharField(required=False, max_length=500)
    status = forms.ChoiceField(choices=[(TransactionStatus.CLEARED, "Cleared"), (TransactionStatus.PENDING, "Pending")])

    class Meta:
        model = Transfer
        fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.request is not None:
            accounts = scoped_queryset(Account, self.request, "add", Transfer).filter(archived=False)
            model_choice_field(self, "from_account").queryset = accounts
            model_choice_field(self, "to_account").queryset = accounts


@admin.register(Transfer)
class TransferAdmin(HouseholdScopedAdmin):
    """Created as a pair through `transfer_create`, deleted as a pair; the sides are edited as transactions."""

    form = TransferForm
    household_field = None
    list_display = ("__str__", "sent", "received", "created_at", "household")
    list_filter = (("household", ScopedFilter),)
    list_select_related = ("household",)
    inlines = (TransferSideInline,)
    add_fields = TRANSFER_EDITABLE_FIELDS.admin_fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        sides = Prefetch("transactions", queryset=Transaction.objects.select_related("account").order_by("amount"))
        return super().get_queryset(request).prefetch_related(sides)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else ("household", "created_at", "created_by")

    def get_inlines(self, request: HttpRequest, obj: Any) -> Any:
        return self.inlines if obj is not None else ()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @staticmethod
    def _side(obj: Transfer, outgoing: bool) -> str:
        for side in obj.transactions.all():
            if (side.amount < 0) == outgoing:
                return f"{side.account.name}: {display_amount(side.amount, side.account.currency, signed=True)}"
        return "—"

    @admin.display(description="From")
    def sent(self, obj: Transfer) -> str:
        return self._side(obj, outgoing=True)

    @admin.display(description="To")
    def received(self, obj: Transfer) -> str:
        return self._side(obj, outgoing=False)

    def create_with_service(self, request: AuthenticatedHttpRequest, data: dict[str, Any]) -> Transfer:
        return transfer_create(user=request.user, **TRANSFER_EDITABLE_FIELDS.pick(data))

    def delete_with_service(self, request: HttpRequest, obj: Transfer) -> None:
        transfer_delete(transfer=obj)


@admin.register(Reconciliation)
class ReconciliationAdmin(HouseholdScopedAdmin):
    """Adding one runs `account_reconcile`; the record is the statement, so it is never edited."""

    household_field = None  # owners delete (Reconciliation.household_policy)
    list_display = ("account", "statement_date", "balance_display", "transaction_count", "created_by", "created_at")

    @admin.display(description="Statement balance", ordering="statement_balance")
    def balance_display(self, obj: Reconciliation) -> str:
        return money_html(obj.statement_balance, obj.account.currency)

    list_filter = (("account", ScopedFilter),)
    list_select_related = ("account", "created_by")
    date_hierarchy = "statement_date"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("account", "statement_date", "statement_balance")
        return ("household", "account", "statement_date", "statement_balance", "transaction_count", "created_by")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def create_with_service(self, request: AuthenticatedHttpRequest, data: dict[str, Any]) -> Reconciliation:
        return account_reconcile(
            account=data["account"],
            statement_date=data["statement_date"],
            statement_balance=data["statement_balance"],
            user=request.user,
        )

    def delete_with_service(self, request: HttpRequest, obj: Reconciliation) -> None:
        # No service exists for this: the record is statement metadata, and its transactions stay reconciled.
        obj.delete()


class RuleTagInline(HouseholdScopedInline):
    model = RuleTag
    fields = ("tag",)
    verbose_name = "tag to add"
    verbose_name_plural = "tags to add"


@admin.register(Rule)
class RuleAdmin(HouseholdScopedAdmin):
    list_display = ("name", "position", "is_active", "match", "set_category", "set_payee", "household")
    list_filter = ("is_active", "match", ("household", ScopedFilter))
    list_select_related = ("set_category__parent", "household")
    search_fields = ("name", "set_payee")
    autocomplete_fields = ("set_category",)
    fields = RULE_EDITABLE_FIELDS.admin_fields
    inlines = (RuleTagInline,)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Nothing yet: the rule and its tags are written together in save_related."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        tags: list[Tag] = []
        tags_changed = False
        for formset in formsets:
            # Django's change message reads these; the service, not formset.save(), wrote the rows.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            if formset.model is RuleTag:
                tags_changed = formset.has_changed()
                tags = [
                    f.cleaned_data["tag"]
                    for f in formset.forms
                    if f.cleaned_data.get("tag") and not f.cleaned_data.get("DELETE")
                ]
        data = RULE_EDITABLE_FIELDS.pick(form.cleaned_data)
        if change:
            changes = {name: data[name] for name in form.changed_data if name in data}
            current = Rule.objects.get(pk=form.instance.pk)
            saved = rule_update(rule=current, add_tags=tags if tags_changed else None, **changes)
        else:
            saved = rule_create(household=form.cleaned_data["household"], add_tags=tags, **data)
        adopt(form.instance, saved)

    def delete_with_service(self, request: HttpRequest, obj: Rule) -> None:
        rule_delete(rule=obj)
