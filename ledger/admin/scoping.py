"""The admin's one scoping mechanism: lists, objects, choices, filters and autocomplete all start from
`Model.objects.restrict(user, action)` (which knows the superuser rule), and the model's household policy
decides what a role may change.

Writes go through `ledger.services`; a service's ValidationError is shown on the form it came from and a
ConflictError (a reconciled transaction, a last owner) as an error message, never as a 500.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.filters import ChoicesFieldListFilter, FieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.admin import ModelAdmin, TabularInline

from financetracker.authenticated import AuthenticatedHttpRequest, authenticated
from financetracker.core.admin.changelists import BoundedDateHierarchyMixin
from financetracker.core.admin.fields import AmountFormField
from financetracker.core.errors import ConflictError
from financetracker.core.money import AMOUNT_DECIMAL_PLACES, quantize
from financetracker.core.tenancy import Action, GlobalQuerySet, household_ids_for, may
from ledger.admin_history import AuditHistoryAdminMixin
from ledger.models import Category, Household, HouseholdQuerySet, Membership, User
from ledger.models.accounts_and_transactions import CATEGORY_TREE_ORDER

HOUSEHOLD_MEMBERS_GROUP = "Household members"

# Relations each model's label (__str__) reads, so choice lists and filters cost one query, not one per row.
LABEL_RELATIONS: dict[type[models.Model], tuple[str, ...]] = {
    Category: ("parent",),
    Membership: ("user", "household"),
}


def household_members_group() -> Group:
    """The group non-superusers join to use the admin: model permissions open the pages, roles decide the rest."""
    group, _created = Group.objects.get_or_create(name=HOUSEHOLD_MEMBERS_GROUP)
    household_apps = Q(content_type__app_label__in=["ledger", "budgets", "uploads"])
    # Exchange rates are shared reference data: members read them, only staff with the permission write.
    shared_data_writes = Q(content_type__app_label="budgets", codename__regex=r"^(add|change|delete)_exchangerate$")
    group.permissions.set(
        Permission.objects.filter(household_apps, codename__regex=r"^(view|add|change|delete)_").exclude(
            shared_data_writes
        )
    )
    return group


def scoped_queryset(
    model: type[models.Model],
    request: HttpRequest,
    action: Action = "view",
    for_model: type[models.Model] | None = None,
) -> QuerySet[Any]:
    """Rows of `model` the person may `action` (as choices of a `for_model` being written, when given)."""
    queryset = model._default_manager.all()
    if relations := LABEL_RELATIONS.get(model):
        queryset = queryset.select_related(*relations)
    if model is Category:
        queryset = queryset.order_by(*CATEGORY_TREE_ORDER)
    if model is User:
        # People are not household-owned: you see the members of your households, nobody else.
        allowed = household_ids_for(request.user, action, for_model)
        if allowed is None:
            return queryset
        return queryset.filter(pk__in=Membership.objects.filter(household_id__in=allowed).values("user_id"))
    if isinstance(queryset, HouseholdQuerySet):
        return queryset.restrict(request.user, action, for_model=for_model)
    if isinstance(queryset, GlobalQuerySet):
        return queryset.restrict(request.user, action)
    # A model with no household is nobody's to choose from: fail closed.
    return queryset.none()


def household_id_of(obj: models.Model | None) -> int | None:
    if obj is None:
        return None
    if isinstance(obj, Household):
        return obj.pk
    return getattr(obj, "household_id", None)


def may_act(request: HttpRequest, obj: models.Model | None, action: Action, model: type[models.Model]) -> bool:
    """With no object: may the person `action` a `model` row somewhere? With one: in the object's household?"""
    if obj is not None and household_id_of(obj) is None:
        return may(request.user, action, -1, model)  # a row of no household: superusers only
    return may(request.user, action, household_id_of(obj), model)


class ScopedFilter(RelatedOnlyFieldListFilter):
    """A related-object filter listing the person's rows of the related model.

    Django's RelatedFieldListFilter lists every row in the table (other households' account names included),
    and RelatedOnlyFieldListFilter scans the whole list's table for distinct ids; this reads the small table.
    """

    def field_choices(self, field: Any, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[Any]:
        related = scoped_queryset(field.related_model, request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            related = related.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in related]


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's foreign-key field `name`, whose choices a form narrows to the person's households."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a model choice field.")
    return field


# The service error a change form is rendered again with, for ScopedModelForm.clean (see changeform_view).
_SERVICE_ERRORS: weakref.WeakKeyDictionary[HttpRequest, ValidationError] = weakref.WeakKeyDictionary()


class IdSafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete looks its value up by id to show the form again: a value that is no id ("abc", sent
    by hand) raised there, a 500 instead of the field's own "Select a valid choice" error. It is left out."""

    def optgroups(self, name: str, value: Any, attr: Any = None) -> Any:
        target = self.field.remote_field.target_field
        readable = []
        for item in value:
            try:
                target.to_python(item)
            except ValidationError:
                continue
            readable.append(item)
        return super().optgroups(name, readable, attr)


class ScopedModelForm(forms.ModelForm):
    """Shows a service's ValidationError next to the fields it names (see HouseholdScopedAdmin.changeform_view)."""

    request: HttpRequest | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        show_amounts_in_currency_places(self)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        error = _SERVICE_ERRORS.get(self.request) if self.request is not None else None
        if error is not None:
            if hasattr(error, "error_dict"):
                for field, errors in error.error_dict.items():
                    self.add_error(field if field in self.fields else None, errors)
            else:
                self.add_error(None, error)
        return cleaned


def amount_currency(obj: models.Model, field_name: str) -> str | None:
    """The currency an amount field of `obj` is in, when it can be told without guessing."""
    try:
        if field_name == "to_amount":
            to_account = getattr(obj, "to_account", None)
            return to_account.currency if to_account is not None else None
        currency = getattr(obj, "currency", None)
        if isinstance(currency, str) and currency:
            return currency
        for relation in ("account", "transaction"):
            related = getattr(obj, relation, None)
            if related is not None:
                return str(related.currency)
        household = getattr(obj, "household", None)
        return household.base_currency if household is not None else None
    except models.ObjectDoesNotExist:
        return None


def show_amounts_in_currency_places(form: forms.ModelForm) -> None:
    """A stored amount (numeric(19, 4)) shows in its input with the currency's places: -134.21, not -134.2100."""
    instance = form.instance
    if instance.pk is None:
        return
    for name, field in form.fields.items():
        if not isinstance(field, forms.DecimalField) or field.decimal_places != AMOUNT_DECIMAL_PLACES:
            continue
        value = getattr(instance, name, None)
        currency = amount_currency(instance, name)
        if isinstance(value, Decimal) and currency:
            form.initial[name] = quantize(value, currency)


class HouseholdScopedAdmin(BoundedDateHierarchyMixin, AuditHistoryAdminMixin, ModelAdmin):
    """Base for every household-owned model's admin; its History page shows our audit entries."""

    form = ScopedModelForm
    # Amounts are read as the API reads them (unfold merges this into its own widget overrides).
    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = {
        models.DecimalField: {"form_class": AmountFormField}
    }
    # The household foreign key: chosen when adding, read-only afterwards (services never move rows).
    household_field: str | None = "household"
    # A million-row table must not be counted twice per page.
    show_full_result_count = False

    # --- reading ------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user, "view")

    def get_search_results(
        self, request: HttpRequest, queryset: HouseholdQuerySet, search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if self._is_autocomplete(request):
            # Autocomplete feeds a form that writes: offer only rows of households the person may add to.
            queryset = queryset.restrict(request.user, "add")
        return queryset, may_have_duplicates

    @staticmethod
    def _is_autocomplete(request: HttpRequest) -> bool:
        match = getattr(request, "resolver_match", None)
        return match is not None and match.url_name == "autocomplete"

    # --- permissions: model permissions open the pages, the household role decides -------------------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and may_act(request, None, "add", self.model)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_act(request, obj, "change", self.model)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and may_act(request, obj, "delete", self.model)

    # --- forms: every choice drawn from the same scope --------------------------------------------------

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request, "add", self.model)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = IdSafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        if db_field.related_model is Household:
            writable = household_ids_for(request.user, "add", self.model)
            if writable is not None and len(writable) == 1:
                kwargs.setdefault("initial", writable[0])
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request, "add", self.model)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and self.household_field and self.household_field not in readonly:
            readonly += (self.household_field,)
        return readonly

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        # modelform_factory builds a new class per call, so this binds the request to this request's form only.
        form.request = request
        return form

    # --- writes through services -------------------------------------------------------------------

    def create_with_service(self, request: AuthenticatedHttpRequest, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} must create through a ledger service.")

    def update_with_service(
        self, request: AuthenticatedHttpRequest, current: Any, changes: dict[str, Any]
    ) -> models.Model:
        raise NotImplementedError(f"{type(self).__name__} must update through a ledger service.")

    def delete_with_service(self, request: AuthenticatedHttpRequest, obj: Any) -> None:
        raise NotImplementedError(f"{type(self).__name__} must delete through a ledger service.")

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            # The form already copied its values onto `obj`; services compare against the stored row.
            current = self.model._default_manager.get(pk=obj.pk)
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            saved = self.update_with_service(authenticated(request), current, changes)
        else:
            saved = self.create_with_service(authenticated(request), form.cleaned_data)
        adopt(obj, saved)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_with_service(authenticated(request), obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        refused: list[str] = []
        # One transaction: side effects waiting for the commit (stored files removed) happen once, at the end.
        with transaction.atomic():
            for obj in queryset:
                if not self.has_delete_permission(request, obj):
                    refused.append(f"{obj}: you may not delete it.")
                    continue
                try:
                    self.delete_with_service(authenticated(request), obj)
                except ConflictError as error:
                    refused.append(f"{obj}: {error.message}")
        if refused:
            messages.error(request, "Not deleted — " + " ".join(refused))

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ConflictError as error:
            if object_id is None:
                # Nothing exists yet: keep what the person typed and show the conflict on the form.
                _SERVICE_ERRORS[request] = ValidationError(error.message)
            else:
                messages.error(request, error.message)
                return HttpResponseRedirect(request.get_full_path())
        except ValidationError as error:
            _SERVICE_ERRORS[request] = error
        # The atomic block of the first attempt rolled back; render the same POST again with the errors.
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        try:
            return super().delete_view(request, object_id, extra_context)
        except ConflictError as error:
            messages.error(request, error.message)
            opts = self.model._meta
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]))


class NoWritesAdminMixin:
    """Put first in the bases: nobody, superusers included, adds, changes or deletes rows on these pages."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ListOnlyInline(TabularInline):
    """Rows listed under their parent and never written there (each has its page of its own); subclasses set
    `model` and `fields`, and `readonly_fields = fields`."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def adopt(target: models.Model, saved: models.Model) -> None:
    """Make the admin's in-memory object the row the service saved, so Django's log and redirect use it."""
    target.__dict__.update(saved.__dict__)


class HouseholdScopedInline(TabularInline):
    """Inline rows: scoped like their parent, editable only where the person may write to the parent's household."""

    exclude = ("household",)
    extra = 0
    form: type[forms.ModelForm] = ScopedModelForm
    formfield_overrides = {
        **TabularInline.formfield_overrides,
        models.DecimalField: {
            **TabularInline.formfield_overrides.get(models.DecimalField, {}),
            "form_class": AmountFormField,
        },
    }

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user, "view")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "queryset" not in kwargs:
            kwargs["queryset"] = scoped_queryset(db_field.related_model, request, "add", self.model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # `obj` is the parent row: its household decides whether its inline rows may be written.
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_add_permission(request, obj) and may_act(request, obj, "change", self.model)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and may_act(request, obj, "change", self.model)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and may_act(request, obj, "change", self.model)


class InUseChoicesFilter(ChoicesFieldListFilter):
    """A choices field's filter offering only the values the person's rows use.

    The account currency filter listed all ~180 ISO codes; this one lists the currencies of the accounts
    you can see (one DISTINCT over the admin's own scoped queryset, so no other household's values).
    """

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: Any,
        model: Any,
        model_admin: Any,
        field_path: str,
    ) -> None:
        in_use = set(model_admin.get_queryset(request).order_by().values_list(field_path, flat=True).distinct())
        narrowed = copy.copy(field)
        narrowed.choices = [(value, label) for value, label in field.flatchoices if value in in_use]
        super().__init__(narrowed, request, params, model, model_admin, field_path)


# Every admin's plain choices-field filter (currency, kind, status, role…) offers only values in use.
FieldListFilter.register(lambda field: bool(field.choices), InUseChoicesFilter, take_priority=True)
