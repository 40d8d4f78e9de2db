"""Plain forms (wizard steps, action pages) drawn with the admin theme's widgets.

ModelAdmin forms get django-unfold's widgets by themselves; a `forms.Form` of our own pages does not, and
unfold's scripts expect its own markup (its file-input script writes the chosen file's name into the
nearest text input — with a stock widget, the next field of the form).
"""

from __future__ import annotations

from typing import Any

from django import forms
from unfold import widgets as unfold_widgets


def _themed_widget(field: forms.Field) -> forms.Widget | None:
    attrs = field.widget.attrs
    if isinstance(field, forms.FileField):
        return unfold_widgets.UnfoldAdminFileFieldWidget(attrs=attrs)
    if isinstance(field, forms.BooleanField):
        return unfold_widgets.UnfoldBooleanWidget(attrs=attrs)
    if isinstance(field, forms.DateField):
        return unfold_widgets.UnfoldAdminSingleDateWidget(attrs=attrs)
    if isinstance(field, forms.ModelChoiceField | forms.ChoiceField):
        widget = unfold_widgets.UnfoldAdminSelectWidget(attrs=attrs)
        widget.choices = field.widget.choices
        return widget
    if isinstance(field, forms.CharField | forms.DecimalField | forms.IntegerField):
        return unfold_widgets.UnfoldAdminTextInputWidget(attrs=attrs)
    return None


class ThemedFormMixin:
    """Mix into a forms.Form: every field gets the theme's widget of its kind, after the form's own __init__."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.apply_theme()

    def apply_theme(self) -> None:
        for field in self.fields.values():
            widget = _themed_widget(field)
            if widget is not None:
                field.widget = widget
