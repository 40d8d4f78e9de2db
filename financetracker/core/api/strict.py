"""The serializer bases every API body goes through: a key that cannot be honoured is a 400, never dropped."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from rest_framework import serializers

if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer
else:
    _SerializerBase = object


class RefuseUnknownFieldsMixin(_SerializerBase):
    """A JSON object's keys must be writable fields of the serializer; others are refused with a message.

    A misspelt key ("catgory") or one the server sets itself ("balance", "household" on an update) would
    otherwise be ignored while the request succeeds. Query strings and form bodies (QueryDicts) are exempt:
    they also carry pagination, ordering and filter parameters that are not serializer fields.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            writable = sorted(name for name, field in self.fields.items() if not field.read_only)
            errors: dict[str, list[str]] = {}
            for key in data:
                field = self.fields.get(key)
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
