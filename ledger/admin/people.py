"""Households, memberships, people, API tokens and the audit history."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from financetracker.authenticated import AuthenticatedHttpRequest, authenticated
from ledger.admin.scoping import (
    HouseholdScopedAdmin,
    ListOnlyInline,
    NoWritesAdminMixin,
    ScopedFilter,
    adopt,
    scoped_queryset,
)
from ledger.models import Account, ApiToken, AuditEntry, Category, Household, Membership, Transaction, User
from ledger.services.households import (
    HOUSEHOLD_EDITABLE_FIELDS,
    household_create,
    household_create_personal,
    household_delete,
    household_update,
    membership_change_role,
    membership_remove,
)
from ledger.services.tokens import api_token_create, api_token_revoke


class MembershipListInline(ListOnlyInline):
    """Who is in the household; memberships are managed on their own page (owners only)."""

    model = Membership
    fields = ("user", "role", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user")


@admin.register(Household)
class HouseholdAdmin(HouseholdScopedAdmin):
    household_field = None  # owners change and delete it (Household.household_policy)
    list_display = ("name", "base_currency", "budget_month_start_day", "created_at")
    search_fields = ("name",)
    fields = HOUSEHOLD_EDITABLE_FIELDS.admin_fields
    inlines = (MembershipListInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Anyone who may use the admin may start a household of their own (and becomes its owner).
        return super(HouseholdScopedAdmin, self).has_add_permission(request)

    def create_with_service(self, request: AuthenticatedHttpRequest, data: dict[str, Any]) -> Household:
        return household_create(owner=request.user, **HOUSEHOLD_EDITABLE_FIELDS.pick(data))

    def update_with_service(self, request: HttpRequest, current: Household, changes: dict[str, Any]) -> Household:
        return household_update(household=current, **HOUSEHOLD_EDITABLE_FIELDS.pick(changes))

    def delete_with_service(self, request: HttpRequest, obj: Household) -> None:
        household_delete(household=obj)

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        # Django's collector would read every row of the household for this page, and would report categories
        # as protected although household_delete removes what uses them first: summarise with counts instead.
        households = list(objs)
        perms_needed = {"household"} if not all(self.has_delete_permission(request, h) for h in households) else set()
        counts = {
            str(model._meta.verbose_name_plural): model.objects.filter(household__in=households).count()
            for model in (Account, Category, Transaction, Membership)
        }
        return [str(household) for household in households], counts, perms_needed, []


@admin.register(Membership)
class MembershipAdmin(HouseholdScopedAdmin):
    """Who is in which household. People join by accepting an invitation; owners change roles and remove."""

    fields = ("household", "user", "role")
    list_display = ("user", "household", "role", "created_at")
    list_filter = ("role", ("household", ScopedFilter))
    list_select_related = ("user", "household")
    search_fields = ("user__username", "household__name")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "user") if obj is not None else readonly

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Adding a person by name would enlist them without consent: that is what invitations are for.
        return False

    def update_with_service(self, request: HttpRequest, current: Membership, changes: dict[str, Any]) -> Membership:
        return membership_change_role(membership=current, role=changes.get("role", current.role))

    def delete_with_service(self, request: HttpRequest, obj: Membership) -> None:
        membership_remove(membership=obj)


class SignUpForm(UserCreationForm):
    personal_household = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Sign the person up with a household of their own, which they own (as everyone who signs up).",
    )


@admin.register(User)
class LedgerUserAdmin(UserAdmin, ModelAdmin):
    """Superusers manage people; everyone else sees the members of their households and edits only themselves."""

    add_form = SignUpForm
    # Unfold's forms: the stock ones render unstyled inside the theme.
    form = UserChangeForm
    change_password_form = AdminPasswordChangeForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "email", "usable_password", "password1", "password2", "personal_household"),
            },
        ),
    )
    _own_fieldsets = (
        (None, {"fields": ("username",)}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(pk__in=scoped_queryset(User, request).values("pk"))

    def get_list_filter(self, request: HttpRequest) -> Any:
        return super().get_list_filter(request) if request.user.is_superuser else ("is_active",)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser or obj is None:
            return super().get_fieldsets(request, obj)
        return self._own_fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return super().get_readonly_fields(request, obj) if request.user.is_superuser else ("username",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        return obj is not None and obj.pk == request.user.pk and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change and form.cleaned_data.get("personal_household"):
            household_create_personal(user=obj)


# The stock Group page, in the theme like every other page (superusers manage groups).
admin.site.unregister(Group)


@admin.register(Group)
class ThemedGroupAdmin(GroupAdmin, ModelAdmin):
    pass


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("name",)


@admin.register(ApiToken)
class ApiTokenAdmin(ModelAdmin):
    """Personal tokens: created here (the secret is shown once), revoked with an action, never edited."""

    form = ApiTokenForm
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("name", "prefix")
    actions = ("revoke_tokens",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(user_id=request.user.pk)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("name",) if obj is None else self.list_display

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoking keeps the record of a token; deleting is for superusers cleaning up people.
        return request.user.is_superuser

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        token, secret = api_token_create(user=authenticated(request).user, name=form.cleaned_data["name"])
        adopt(obj, token)
        messages.warning(request, f"Copy this token now, it will not be shown again: {secret}")

    @admin.action(description="Revoke selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token(s).", messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(NoWritesAdminMixin, HouseholdScopedAdmin):
    """History is append-only: nobody, superusers included, edits or deletes it here."""

    household_field = None
    list_display = ("at", "action", "object_type", "object_id", "object_repr", "actor", "household")
    list_filter = ("action", "object_type", ("household", ScopedFilter))
    list_select_related = ("actor", "household")
    search_fields = ("object_repr", "object_type", "request_id")
    date_hierarchy = "at"
