"""The register: the transaction list filtered to one account (`?account__id__exact=<id>`), with each row's
running balance, status marks and a quick-entry line at the top.

A row's running balance is the account's true balance just after that row in (date, id) order — what the
bank statement would say — whatever the list's other filters, search or sort hide or reorder: a filter narrows
which rows are listed, never what the balance after a row is (`ledger.selectors.running_balances`, one query a
page, computed by PostgreSQL).

Quick entry posts to `quick-entry/` and writes through `transaction_create`; the payee box asks `payees/` (JSON,
scoped by `restrict`) for the payee's last category and amount. Both answer another household's account exactly
like a missing one (404).
"""

from __future__ import annotations

import weakref
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html

from financetracker.authenticated import AuthenticatedHttpRequest
from financetracker.core.money import display_amount, format_amount
from financetracker.core.tenancy import may
from ledger.admin.scoping import model_choice_field
from ledger.models import Account, Category, Transaction, TransactionStatus
from ledger.selectors import accounts_with_balance, payee_suggestions, running_balances
from ledger.services.transactions import transaction_create

if TYPE_CHECKING:
    from ledger.selectors import AccountWithBalance

    _AdminBase = admin.ModelAdmin[Transaction]
else:
    _AdminBase = object

REGISTER_PARAMETER = "account__id__exact"
QUICK_ENTRY_SESSION_KEY = "ledger_quick_entry"

# Status marks are a symbol and a word, so they read without colour (GnuCash's n/c/y, spelled out).
STATUS_MARKS: dict[str, tuple[str, str]] = {
    TransactionStatus.PENDING: ("○", "pending"),
    TransactionStatus.CLEARED: ("✓", "cleared"),
    TransactionStatus.RECONCILED: ("✓✓", "reconciled"),
}


def register_url(account: Account | int) -> str:
    account_id = account if isinstance(account, int) else account.pk
    return f"{reverse('admin:ledger_transaction_changelist')}?{REGISTER_PARAMETER}={account_id}"


# The register's account, read once a request (the list, its columns and its header all ask).
_REGISTER_ACCOUNTS: weakref.WeakKeyDictionary[HttpRequest, AccountWithBalance] = weakref.WeakKeyDictionary()


def register_account(request: HttpRequest) -> AccountWithBalance | None:
    """The account whose register this list is, or None for the plain list.

    Another household's account (or a malformed id) is a 404, as for an account that does not exist: an empty
    register would tell the person the account exists.
    """
    raw = request.GET.get(REGISTER_PARAMETER)
    if raw is None:
        return None
    cached = _REGISTER_ACCOUNTS.get(request)
    if cached is not None:
        return cached
    if not raw.isdigit():
        raise Http404("No such account.")
    account = accounts_with_balance(Account.objects.restrict(request.user, "view").filter(pk=int(raw))).first()
    if account is None:
        raise Http404("No such account.")
    _REGISTER_ACCOUNTS[request] = account
    return account


class RegisterChangeList(ChangeList):
    """The stock change list, plus the page's running balances when it is an account's register."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        account = register_account(request)
        if account is None:
            return
        balances = running_balances(account, [row.pk for row in self.result_list])
        for row in self.result_list:
            row.running_balance = balances.get(row.pk)


class QuickEntryForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), widget=forms.HiddenInput)
    date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    payee = forms.CharField(max_length=200, required=False)
    category = forms.ModelChoiceField(queryset=Category.objects.none(), required=False)
    amount = forms.CharField(max_length=40)

    def __init__(self, *args: Any, request: HttpRequest, account: Account | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        accounts = Account.objects.restrict(request.user, "add", for_model=Transaction)
        categories = Category.objects.restrict(request.user, "add", for_model=Transaction).select_related("parent")
        if account is not None:
            categories = categories.filter(household_id=account.household_id)
        model_choice_field(self, "account").queryset = accounts
        category = model_choice_field(self, "category")
        category.queryset = categories.filter(archived=False).order_by("parent__name", "parent_id", "name")
        category.empty_label = "— no category —"


class RegisterAdminMixin(_AdminBase):
    """Mixed into TransactionAdmin: the register's columns, quick entry and payee suggestions. Its list template
    is admin/ledger/transaction/change_list.html (the register's header above the list)."""

    # --- the list --------------------------------------------------------------------------------------

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RegisterChangeList

    def get_list_display(self, request: HttpRequest) -> Any:
        columns = list(super().get_list_display(request))
        if register_account(request) is None:
            return columns
        # In a register the account column says nothing; the balance follows the amount.
        columns = [c for c in columns if c not in ("account", "status")]
        at = columns.index("amount_display") + 1 if "amount_display" in columns else len(columns)
        columns[at:at] = ["running_balance_display", "status_mark"]
        return columns

    @admin.display(description="Balance")
    def running_balance_display(self, obj: Transaction) -> str:
        balance: Decimal | None = getattr(obj, "running_balance", None)
        if balance is None:
            return "—"
        return format_html(
            '<span class="ft-money ft-balance{}">{}</span>',
            # A balance is not money in or out: only an overdrawn one is marked (its minus sign says it too).
            " ft-negative" if balance < 0 else "",
            display_amount(balance, obj.account.currency),
        )

    @admin.display(description="Status", ordering="status")
    def status_mark(self, obj: Transaction) -> str:
        symbol, word = STATUS_MARKS.get(obj.status, ("?", obj.status))
        return format_html(
            '<span class="ft-status ft-status-{}" title="{}"><span aria-hidden="true">{}</span> {}</span>',
            word,
            word.capitalize(),
            symbol,
            word,
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        account = register_account(request)  # 404 before anything else for another household's account
        context = dict(extra_context or {})
        if account is not None:
            context["register"] = self._register_context(request, account)
            context["title"] = f"{account.name}: register"
        return super().changelist_view(request, context)

    def _register_context(self, request: HttpRequest, account: AccountWithBalance) -> dict[str, Any]:
        can_add = may(request.user, "add", account.household_id, Transaction) and self.has_add_permission(request)
        kept = request.session.pop(QUICK_ENTRY_SESSION_KEY, None) if can_add else None
        initial = {"account": account.pk, "date": timezone.localdate()}
        if kept and kept.get("account") == str(account.pk):
            initial.update({k: v for k, v in kept.items() if k in ("date", "payee", "category", "amount")})
        return {
            "account": account,
            "balance": display_amount(account.balance, account.currency),
            "negative": account.balance < 0,
            "form": QuickEntryForm(initial=initial, request=request, account=account) if can_add else None,
            "errors": kept.get("errors") if kept else None,
            # Back from an entry: the cursor waits in the payee box for the next one.
            "refocus": bool(kept),
            "can_add": can_add,
            "quick_entry_url": reverse("admin:ledger_transaction_quick_entry"),
            "payees_url": reverse("admin:ledger_transaction_payees"),
        }

    # --- quick entry and payee suggestions ---------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        site = self.admin_site
        custom = [
            path("quick-entry/", site.admin_view(self.quick_entry_view), name="ledger_transaction_quick_entry"),
            path("payees/", site.admin_view(self.payees_view), name="ledger_transaction_payees"),
        ]
        return custom + super().get_urls()

    def quick_entry_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        raw = request.POST.get("account", "")
        visible = Account.objects.restrict(request.user, "view").filter(pk=int(raw)).first() if raw.isdigit() else None
        if visible is None:
            raise Http404("No such account.")
        if not (may(request.user, "add", visible.household_id, Transaction) and self.has_add_permission(request)):
            raise PermissionDenied("Your role in this household is read-only.")
        form = QuickEntryForm(request.POST, request=request, account=visible)
        error: str | None = None
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = transaction_create(
                    account=data["account"],
                    date=data["date"],
                    amount=data["amount"].strip(),
                    payee=data["payee"].strip(),
                    category=data["category"],
                    user=request.user,
                    source="admin",
                )
            except ValidationError as failure:
                error = "; ".join(failure.messages)
            else:
                # The next entry starts on the same day, as in a paper register.
                request.session[QUICK_ENTRY_SESSION_KEY] = {"account": raw, "date": data["date"].isoformat()}
                amount = display_amount(saved.amount, visible.currency)
                messages.success(request, f"Added {saved.payee or 'a transaction'}: {amount}.")
                return HttpResponseRedirect(register_url(visible))
        else:
            error = "; ".join(f"{name}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())
        # Nothing is lost: what was typed comes back in the form, with the reason.
        kept = {k: request.POST.get(k, "") for k in ("date", "payee", "category", "amount")}
        request.session[QUICK_ENTRY_SESSION_KEY] = {"account": raw, **kept, "errors": error}
        messages.error(request, f"Not added — {error}")
        return HttpResponseRedirect(register_url(visible))

    def payees_view(self, request: HttpRequest) -> JsonResponse:
        raw = request.GET.get("account", "")
        account = Account.objects.restrict(request.user, "view").filter(pk=int(raw)).first() if raw.isdigit() else None
        if account is None:
            raise Http404("No such account.")
        term = request.GET.get("term", "")[:100]
        rows = Transaction.objects.restrict(request.user, "view").filter(household_id=account.household_id)
        categories = {
            c.pk: str(c) for c in Category.objects.filter(household_id=account.household_id).select_related("parent")
        }
        results = [
            {
                "payee": row["payee"],
                "category": row["category_id"],
                "category_label": categories.get(row["category_id"], ""),
                # The payee's last amount, in its own account's currency's places (a plain decimal to type on).
                "amount": format_amount(row["amount"], row["currency"]),
            }
            for row in payee_suggestions(rows, term)
        ]
        return JsonResponse({"results": results})
