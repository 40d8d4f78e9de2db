"""Ledger API views: thin wrappers that scope, validate shape, and call services."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_logged_in
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.pagination import BasePagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from financetracker.authenticated import AuthenticatedRequest
from financetracker.core.api.ordering import StrictOrderingFilter
from financetracker.core.api.pagination import StableCursorPagination
from financetracker.core.api.permissions import ensure_can_write, ensure_owner
from financetracker.core.api.viewsets import HouseholdScopedViewSet, bound_instance
from financetracker.core.money import format_amount
from financetracker.security.throttling import DatabaseScopedRateThrottle
from ledger.api import filters as ledger_filters
from ledger.api import invitations as inv
from ledger.api import serializers as s
from ledger.api.audit import AuditEntrySerializer, audit_entries_for
from ledger.api.filters import TransactionFilter, transaction_filter_values
from ledger.models import Account, AuditEntry, Category, Household, Invitation, Membership, Tag, Transaction, Transfer
from ledger.selectors import (
    account_balance_as_of,
    accounts_with_balance,
    invitations_sent,
    transaction_page,
    transactions_for_list,
)
from ledger.services import accounts_categories_tags as account_services
from ledger.services import households, tokens
from ledger.services import invitations as invitation_services
from ledger.services import transactions as tx_services


class HouseholdViewSet(HouseholdScopedViewSet):
    model = Household
    serializer_class = s.HouseholdSerializer
    # Not the serializer's fields (OrderingFilter's default): `members` orders by the memberships, one row each.
    ordering_fields = ["name", "id"]
    ordering = ["id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related(
            Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("id"))
        ).order_by("id")

    def household_id_of(self, obj: Any) -> int:
        return int(obj.pk)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = households.household_create(owner=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer[Household]) -> None:
        ensure_owner(self.request.user, bound_instance(serializer).pk)
        serializer.instance = households.household_update(
            household=bound_instance(serializer), **serializer.validated_data
        )

    def perform_destroy(self, instance: Household) -> None:
        ensure_owner(self.request.user, instance.pk)
        households.household_delete(household=instance)

    @extend_schema(request=None, responses=inv.InvitationSerializer(many=True))
    # One list, in one order: no pagination and no ordering parameter to document (or to ignore).
    @action(detail=True, methods=["get"], url_path="invitations", pagination_class=None, filter_backends=[])
    def invitations(self, request: Request, pk: str | None = None) -> Response:
        """The household's invitations, newest first, in any state (owners only)."""
        household = self._household_for_owner(request, pk)
        return Response(inv.InvitationSerializer(invitations_sent(household.pk), many=True).data)

    @extend_schema(request=inv.InvitationCreateSerializer, responses={201: inv.InvitationCreatedSerializer})
    @invitations.mapping.post
    def invite(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Invite a username or e-mail with a role (owners only). The answer is the same whoever it names."""
        household = self._household_for_owner(request, pk)
        payload = inv.InvitationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        invitation, code = invitation_services.invitation_create(
            household=household,
            invited_by=request.user,
            **payload.validated_data,
        )
        # The code is shown once and stored only hashed: the invitation has no attribute to read it from.
        created = {**inv.InvitationCreatedSerializer(invitation).data, "code": code}
        return Response(created, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=inv.InvitationSerializer)
    @action(detail=True, methods=["post"], url_path=r"invitations/(?P<invitation_id>\d+)/revoke")
    def revoke_invitation(self, request: Request, pk: str | None = None, invitation_id: str | None = None) -> Response:
        """Withdraw a pending invitation (owners only; 409 once it was answered)."""
        household = self._household_for_owner(request, pk)
        invitation = get_object_or_404(Invitation, pk=invitation_id, household=household)
        return Response(inv.InvitationSerializer(invitation_services.invitation_revoke(invitation=invitation)).data)

    def _household_for_owner(self, request: Request, pk: str | None) -> Household:
        # Not get_object(): outsiders get the 404 of the scoped lookup, members who are not owners a 403.
        household: Household = generics.get_object_or_404(self.get_queryset(), pk=pk)
        ensure_owner(request.user, household.pk)
        return household

    @extend_schema(request=s.MembershipRoleSerializer, responses=s.MembershipSerializer)
    @action(detail=True, methods=["patch"], url_path=r"members/(?P<membership_id>\d+)")
    def change_member(self, request: Request, pk: str | None = None, membership_id: str | None = None) -> Response:
        """Change a member's role (owners only; 409 when it would leave the household without an owner)."""
        household = self._household_for_owner(request, pk)
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id, household=household)
        payload = s.MembershipRoleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = households.membership_change_role(membership=membership, role=payload.validated_data["role"])
        return Response(s.MembershipSerializer(membership).data)

    @extend_schema(request=None, responses={204: None})
    @change_member.mapping.delete
    def remove_member(self, request: Request, pk: str | None = None, membership_id: str | None = None) -> Response:
        """Remove a member (owners only; anyone may leave a household themselves)."""
        # Not get_object(): its write check would stop a viewer from leaving; the checks below decide.
        household = generics.get_object_or_404(self.get_queryset(), pk=pk)
        membership = get_object_or_404(Membership, pk=membership_id, household=household)
        if membership.user_id != request.user.pk:
            ensure_owner(request.user, household.pk)
        households.membership_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


_ACCOUNT_COLUMNS = (
    "id",
    "household_id",
    *account_services.ACCOUNT_EDITABLE_FIELDS,
    "balance",
    "created_at",
    "updated_at",
)
_DATETIME = serializers.DateTimeField(read_only=True)  # DRF's own formatting (time zone, "Z")


def account_list_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `AccountSerializer(many=True).data` gives for these `.values()` rows (`_ACCOUNT_COLUMNS`).

    "All balances" is read on every screen: a DRF field per value (the balance's and the opening balance's
    money fields, the currency's choice field) cost more than the query. AccountSerializer stays the
    schema and the write path; tests/ledger/test_api_lean_accounts.py holds the two outputs equal."""
    datetime_out = _DATETIME.to_representation
    return [
        {
            "id": row["id"],
            "household": row["household_id"],
            "name": row["name"],
            "kind": row["kind"],
            "currency": row["currency"],
            "opening_balance": format_amount(row["opening_balance"], row["currency"]),
            "opening_date": row["opening_date"].isoformat(),
            "institution": row["institution"],
            "archived": row["archived"],
            "balance": format_amount(row["balance"], row["currency"]),
            "created_at": datetime_out(row["created_at"]),
            "updated_at": datetime_out(row["updated_at"]),
        }
        for row in rows
    ]


class AccountViewSet(HouseholdScopedViewSet):
    model = Account
    serializer_class = s.AccountSerializer
    filterset_fields = ["household", "kind", "currency", "archived"]
    # Query parameters checked by each filter's own form field, built once (no per-request form).
    filter_backends = [ledger_filters.FormlessFilterBackend, StrictOrderingFilter]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.action == "balance":  # the as-of balance reads its own totals: today's would be summed for nothing
            return queryset
        return accounts_with_balance(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The generic list's rows, filters, ordering and cursor, read as .values() dicts and shaped without
        # a serializer per row (account_list_data); the schema still comes from AccountSerializer.
        rows = self.filter_queryset(self.get_queryset()).values(*_ACCOUNT_COLUMNS)
        page = self.paginate_queryset(rows)
        data = account_list_data(list(rows) if page is None else page)
        return Response(data) if page is None else self.get_paginated_response(data)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        account = self.create_through(serializer, account_services.account_create)
        serializer.instance = accounts_with_balance(Account.objects.filter(pk=account.pk)).get()

    def perform_update(self, serializer: serializers.BaseSerializer[Account]) -> None:
        account = account_services.account_update(account=bound_instance(serializer), **serializer.validated_data)
        serializer.instance = accounts_with_balance(Account.objects.filter(pk=account.pk)).get()

    def perform_destroy(self, instance: Account) -> None:
        account_services.account_delete(account=instance)

    @extend_schema(
        parameters=[OpenApiParameter("as_of", str, description="YYYY-MM-DD; default: today")],
        responses={
            200: {
                "type": "object",
                "properties": {
                    "account": {"type": "integer"},
                    "as_of": {"type": "string"},
                    "balance": {"type": "string"},
                    "currency": {"type": "string"},
                },
            }
        },
    )
    @action(detail=True, methods=["get"])
    def balance(self, request: Request, pk: str | None = None) -> Response:
        """The account's balance at the end of a day."""
        from django.utils import timezone

        account = self.get_object()
        query = s.BalanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        value = account_balance_as_of(account, as_of)
        return Response(
            {
                "account": account.pk,
                "as_of": as_of.isoformat(),
                "balance": format_amount(value, account.currency),
                "currency": account.currency,
            }
        )

    @extend_schema(request=s.ReconcileSerializer, responses={201: {"type": "object"}})
    @action(detail=True, methods=["post"])
    def reconcile(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Reconcile against a statement: 409 with the difference when the books do not match."""
        account = self.get_object()
        payload = s.ReconcileSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        reconciliation = tx_services.account_reconcile(account=account, user=request.user, **payload.validated_data)
        return Response(
            {
                "id": reconciliation.pk,
                "account": account.pk,
                "statement_date": reconciliation.statement_date.isoformat(),
                "statement_balance": format_amount(reconciliation.statement_balance, account.currency),
                "reconciled_transactions": reconciliation.transaction_count,
            },
            status=status.HTTP_201_CREATED,
        )


class CategoryViewSet(HouseholdScopedViewSet):
    model = Category
    serializer_class = s.CategorySerializer
    filterset_fields = ["household", "parent", "kind", "archived"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = self.create_through(serializer, account_services.category_create)

    def perform_update(self, serializer: serializers.BaseSerializer[Category]) -> None:
        serializer.instance = account_services.category_update(
            category=bound_instance(serializer), **serializer.validated_data
        )

    def perform_destroy(self, instance: Category) -> None:
        account_services.category_delete(category=instance)


class TagViewSet(HouseholdScopedViewSet):
    model = Tag
    serializer_class = s.TagSerializer
    filterset_fields = ["household"]
    ordering_fields = ["name", "id"]
    ordering = ["name", "id"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = self.create_through(serializer, account_services.tag_create)

    def perform_update(self, serializer: serializers.BaseSerializer[Tag]) -> None:
        serializer.instance = account_services.tag_update(tag=bound_instance(serializer), **serializer.validated_data)

    def perform_destroy(self, instance: Tag) -> None:
        account_services.tag_delete(tag=instance)


def _split_lines(splits: list[dict[str, Any]] | None) -> list[tx_services.SplitLine] | None:
    if splits is None:
        return None
    return [
        tx_services.SplitLine(category=line["category"], amount=line["amount"], memo=line.get("memo", ""))
        for line in splits
    ]


class TransactionRowsPagination(StableCursorPagination):
    """StableCursorPagination over rows read by ledger.selectors.transaction_page: the same cursor, page and
    links, with the queryset steps of CursorPagination.paginate_queryset (DRF 3.18) as one `fetch`."""

    # The page's ordering. CursorPagination keeps it in `ordering`, which our base declares a string ("-id").
    row_ordering: tuple[str, ...] = ()

    def _get_position_from_instance(self, instance: Any, ordering: Sequence[str]) -> str:
        return super()._get_position_from_instance(instance, self.row_ordering or ordering)

    def paginate_rows(
        self, fetch: Callable[..., list[dict[str, Any]]], request: Request, view: Any
    ) -> list[dict[str, Any]] | None:
        self.request = request
        page_size = self.get_page_size(request)
        if not page_size:
            return None
        self.page_size = page_size
        self.base_url = request.build_absolute_uri()
        self.row_ordering = ordering = self.get_ordering(request, _NO_ROWS, view)
        self.cursor = self.decode_cursor(request)
        offset, reverse, position = (0, False, None) if self.cursor is None else self.cursor
        current_position = None if position is None else str(position)  # a string: the stub says int
        after = None
        if current_position is not None:
            # (cursor reversed) XOR (ordering reversed): the rows before the position, else those after it
            after = ("<" if reverse != ordering[0].startswith("-") else ">", current_position)
        with self.position_of_the_ordering_field():
            results = fetch(
                ordering=_reversed_ordering(ordering) if reverse else ordering,
                position=after,
                offset=offset,
                limit=page_size + 1,
            )
        self.page = page = results[:page_size]
        has_following_position = len(results) > len(page)
        following_position = self._get_position_from_instance(results[-1], ordering) if has_following_position else None
        if reverse:
            self.page = list(reversed(page))
            self.has_next = (current_position is not None) or (offset > 0)
            self.has_previous = has_following_position
            if self.has_next:
                self.next_position = current_position
            if self.has_previous:
                self.previous_position = following_position
        else:
            self.has_next = has_following_position
            self.has_previous = (current_position is not None) or (offset > 0)
            if self.has_next:
                self.next_position = following_position
            if self.has_previous:
                self.previous_position = current_position
        if (self.has_previous or self.has_next) and self.template is not None:
            self.display_page_controls = True
        return self.page


# StrictOrderingFilter.get_ordering takes a queryset it reads only when a view declares no ordering_fields.
_NO_ROWS = Transaction.objects.none()


def _reversed_ordering(ordering: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(field[1:] if field.startswith("-") else f"-{field}" for field in ordering)


class TransactionViewSet(HouseholdScopedViewSet):
    model = Transaction
    serializer_class = s.TransactionSerializer
    filterset_class = TransactionFilter
    pagination_class: type[BasePagination] | None = TransactionRowsPagination
    ordering_fields = ["date", "amount", "id"]
    ordering = ["-date", "-id"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return transactions_for_list(queryset)

    def _reload(self, pk: int) -> Transaction:
        return transactions_for_list(Transaction.objects.filter(pk=pk)).get()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The rows, filters, ordering and cursor of the generic list (filter_queryset, then paginate_queryset),
        # read by one statement compiled once per shape (ledger.selectors.transaction_page) from the query
        # string cleaned by TransactionFilter's own fields, and shaped without a serializer per row
        # (s.transaction_list_data); the schema still comes from TransactionSerializer and TransactionFilter.
        filters = transaction_filter_values(request.query_params)
        fetch = functools.partial(transaction_page, request.user, filters)
        paginator = self.paginator
        assert isinstance(paginator, TransactionRowsPagination)  # pagination_class
        page = paginator.paginate_rows(fetch, request, self)
        if page is None:  # no page size: every row, in the ordering the generic list would apply
            return Response(
                s.transaction_list_data(
                    fetch(tuple(StrictOrderingFilter().get_ordering(request, _NO_ROWS, self) or ()))
                )
            )
        return paginator.get_paginated_response(s.transaction_list_data(page))

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        account: Account = data.pop("account")
        ensure_can_write(self.request.user, account.household_id)
        tx = tx_services.transaction_create(
            account=account,
            user=self.request.user,
            splits=_split_lines(data.pop("splits", None)) or (),
            tags=data.pop("tags", ()),
            **data,
        )
        serializer.instance = self._reload(tx.pk)

    def perform_update(self, serializer: serializers.BaseSerializer[Transaction]) -> None:
        data = dict(serializer.validated_data)
        if "account" in data:
            ensure_can_write(self.request.user, data["account"].household_id)
        tx = tx_services.transaction_update(
            transaction_obj=bound_instance(serializer),
            user=self.request.user,
            splits=_split_lines(data.pop("splits", None)),
            tags=data.pop("tags", None),
            **data,
        )
        serializer.instance = self._reload(tx.pk)

    def perform_destroy(self, instance: Transaction) -> None:
        tx_services.transaction_delete(transaction_obj=instance, user=self.request.user)

    @extend_schema(request=None, responses=s.TransactionSerializer)
    @action(detail=True, methods=["post"])
    def unreconcile(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """Return a reconciled transaction to cleared so it can be changed."""
        tx = self.get_object()
        tx_services.transaction_unreconcile(transaction_obj=tx, user=request.user)
        return Response(self.get_serializer(self._reload(tx.pk)).data)

    @extend_schema(request=None, responses=AuditEntrySerializer(many=True))
    # One transaction's history is short and read whole: a plain list, as the schema says (no page object).
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """Who changed this transaction, when, from which request, and what it was before (newest first)."""
        tx = self.get_object()  # scoped: another household's transaction is a 404
        entries = audit_entries_for(
            AuditEntry.objects.filter(household_id=tx.household_id), object_type="ledger.transaction", object_id=tx.pk
        )
        return Response(AuditEntrySerializer(entries, many=True).data)


class TransferViewSet(HouseholdScopedViewSet):
    """Create, list, show and delete transfers; their amounts change by deleting and re-creating."""

    model = Transfer
    serializer_class = s.TransferSerializer
    # Not the serializer's fields (OrderingFilter's default): a pair's amount and date are its sides', not columns.
    ordering_fields = ["id"]
    ordering = ["-id"]
    http_method_names = ["get", "post", "delete", "head", "options"]
    filterset_fields = ["household"]

    def scope_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.prefetch_related(
            Prefetch("transactions", queryset=Transaction.objects.select_related("account"))
        )

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        ensure_can_write(self.request.user, data["from_account"].household_id)
        transfer = tx_services.transfer_create(user=self.request.user, **data)
        serializer.instance = self.scope_queryset(Transfer.objects.filter(pk=transfer.pk)).get()

    def perform_destroy(self, instance: Transfer) -> None:
        tx_services.transfer_delete(transfer=instance)


class TokenObtainView(APIView):
    """Exchange a username and password for a personal API token.

    Limited per client address (a rate counted in the database) and per (username, address) by django-axes,
    whose middleware answers a locked-out attempt with a JSON 429.
    """

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [DatabaseScopedRateThrottle]
    throttle_scope = "token_obtain"

    def get_authenticate_header(self, request: Request) -> str:
        # Without authentication classes DRF turns a failed login into a 403; a wrong password is a 401.
        return 'Bearer realm="api"'

    @extend_schema(request=s.TokenObtainSerializer, responses={201: s.TokenSerializer})
    def post(self, request: Request) -> Response:
        payload = s.TokenObtainSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        user = authenticate(
            request._request, username=payload.validated_data["username"], password=payload.validated_data["password"]
        )
        if user is None or not user.is_active:
            raise AuthenticationFailed("Unable to log in with these credentials.")
        # A token issued is a login: django-axes clears this (username, address)'s failures on it.
        user_logged_in.send(sender=user.__class__, request=request._request, user=user)
        _token, secret = tokens.api_token_create(user=user, name=payload.validated_data["name"])
        return Response({"token": secret}, status=status.HTTP_201_CREATED)
