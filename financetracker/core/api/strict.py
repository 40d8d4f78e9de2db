"""The serializer bases every API body goes through: a key that cannot be honoured is a 400, never dropped."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from django.http import QueryDict
from rest_framework import serializers

if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object

# An HTML form (the browsable API's) posts its CSRF token beside the fields.
FORM_CONTROL_KEYS = frozenset({"csrfmiddlewaretoken"})
# A form spells a nested field's parts "splits[0]amount" or "mapping.date" (DRF's HTML parsing reads them back).
_NESTED_FORM_KEY = re.compile(r"[\[.]")


class RefuseUnknownFieldsMixin(_SerializerBase):
    """A body's keys must be writable fields of the serializer; others are refused with a message.

    A misspelt key ("catgory") or one the server sets itself ("balance", "household" on an update) would
    otherwise be ignored while the request succeeds. That holds for JSON and form bodies alike. A serializer
    that reads a query string (`reads_query_string`) is exempt: the query string also carries pagination,
    ordering and filter parameters that are not its fields.
    """

    reads_query_string: ClassVar[bool] = False

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not (self.reads_query_string and isinstance(data, QueryDict)):
            writable = sorted(name for name, field in self.fields.items() if not field.read_only)
            errors: dict[str, list[str]] = {}
            for key in data:
                name = str(key)
                if isinstance(data, QueryDict):
                    if name in FORM_CONTROL_KEYS:
                        continue
                    name = _NESTED_FORM_KEY.split(name, maxsplit=1)[0]
                field = self.fields.get(name)
                if field is None:
                    errors[str(key)] = [f"Unknown field. Writable fields: {', '.join(writable) or 'none'}."]
                elif field.read_only:
                    errors[str(key)] = ["This field is read-only here."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictSerializer(RefuseUnknownFieldsMixin, serializers.Serializer):
    pass


class StrictModelSerializer(RefuseUnknownFieldsMixin, serializers.ModelSerializer):
    pass


class QueryStringSerializer(StrictSerializer):
    """The parameters of a query string: its unknown keys are left to pagination, ordering and filters."""

    reads_query_string = True
