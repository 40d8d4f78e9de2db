"""Invitations in the back office: owners invite and revoke ("Invitations"); the invited person accepts or
declines theirs ("Invitations to me"). The owner's pages show only what the owner typed, never whether it
named anyone, and never that person's e-mail.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from financetracker.authenticated import AuthenticatedHttpRequest, authenticated
from financetracker.core.errors import ConflictError
from ledger.admin.scoping import (
    HouseholdScopedAdmin,
    NoWritesAdminMixin,
    ScopedFilter,
    ScopedModelForm,
    adopt,
    may_act,
)
from ledger.models import HouseholdQuerySet, Invitation, ReceivedInvitation
from ledger.selectors import invitations_received
from ledger.services.invitations import (
    INVITATION_EDITABLE_FIELDS,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
)


class InvitationForm(ScopedModelForm):
    # Free text on purpose: the form accepts any name alike, so it cannot tell who has an account.
    invited_as = forms.CharField(
        label="Invite", max_length=254, help_text="The username or e-mail address of the person to invite."
    )

    class Meta:
        model = Invitation
        fields = INVITATION_EDITABLE_FIELDS.admin_fields


@admin.register(Invitation)
class InvitationAdmin(HouseholdScopedAdmin):
    """The invitations of the households one owns; made here, revoked with an action, never edited."""

    form = InvitationForm  # owners only, for every action (Invitation.household_policy)
    list_display = ("invited_as", "household", "role", "state", "invited_by", "created_at", "expires_at")
    list_filter = ("status", "role", ("household", ScopedFilter))
    list_select_related = ("household", "invited_by")
    search_fields = ("invited_as",)
    actions = ("revoke_invitations",)
    # Never `invitee`: whether the name matched a person is not the household's to know.
    readonly_fields = ("invited_as", "role", "state", "invited_by", "created_at", "expires_at", "responded_at")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("household", "invited_as", "role") if obj is None else ("household", *self.readonly_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("household", *self.readonly_fields)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and may_act(request, obj, "view", Invitation)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return may_act(request, None, "change", Invitation)

    def save_model(self, request: HttpRequest, obj: Invitation, form: Any, change: bool) -> None:
        invitation, code = invitation_create(
            household=form.cleaned_data["household"],
            invited_by=authenticated(request).user,
            **INVITATION_EDITABLE_FIELDS.pick(form.cleaned_data),
        )
        adopt(obj, invitation)
        messages.warning(
            request,
            "Invitation made. If the person has an account it is waiting under “Invitations to me”; otherwise "
            f"share this code, shown only now, which they accept once signed up: {code}",
        )

    @admin.action(description="Revoke selected pending invitations", permissions=["revoke"])
    def revoke_invitations(self, request: HttpRequest, queryset: HouseholdQuerySet) -> None:
        revoked = 0
        for invitation in queryset.restrict(request.user, "change").filter(status="pending"):
            invitation_revoke(invitation=invitation)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} invitation(s).", messages.SUCCESS)


@admin.register(ReceivedInvitation)
class ReceivedInvitationAdmin(NoWritesAdminMixin, ModelAdmin):
    """The signed-in person's pending invitations, whatever their households: accept or decline them here."""

    list_display = ("household_name", "role", "invited_by", "created_at", "expires_at")
    list_display_links = None
    actions = ("accept_invitations", "decline_invitations")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Everyone, superusers included, sees only the invitations addressed to them here.
        return invitations_received(request.user)

    @admin.display(description="Household")
    def household_name(self, obj: Invitation) -> str:
        return obj.household.name

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # Any staff person may answer their own invitations, with or without a household's group permissions.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_module_permission(request):
            return False
        return obj is None or obj.invitee_id == request.user.pk

    def has_answer_permission(self, request: HttpRequest) -> bool:
        return self.has_module_permission(request)

    @admin.action(description="Accept selected invitations", permissions=["answer"])
    def accept_invitations(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Invitation]) -> None:
        self._answer(request, queryset, accept=True)

    @admin.action(description="Decline selected invitations", permissions=["answer"])
    def decline_invitations(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Invitation]) -> None:
        self._answer(request, queryset, accept=False)

    def _answer(self, request: AuthenticatedHttpRequest, queryset: QuerySet[Invitation], *, accept: bool) -> None:
        done, refused = [], []
        for invitation in queryset:
            try:
                if accept:
                    invitation_accept(invitation=invitation, user=request.user)
                else:
                    invitation_decline(invitation=invitation, user=request.user)
                done.append(invitation.household.name)
            except ConflictError as error:
                refused.append(f"{invitation.household.name}: {error.message}")
        if done:
            verb = "Joined" if accept else "Declined"
            self.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
        if refused:
            self.message_user(request, "Not answered — " + " ".join(refused), messages.ERROR)
