"""Map domain and database errors to HTTP: 400 with field messages, 409 for conflicts, never a 500."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from financetracker.core.errors import ConflictError


def _django_validation_detail(error: DjangoValidationError) -> Any:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(message) for message in messages]
            for field, messages in error.message_dict.items()
        }
    return {"non_field_errors": error.messages}


def _request_size_detail(exc: Exception) -> str | None:
    """Django raises these while reading a body past its limits; by default they become a bare HTML 400."""
    if isinstance(exc, RequestDataTooBig):
        return f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes."
    if isinstance(exc, TooManyFieldsSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields."
    if isinstance(exc, TooManyFilesSent):
        return f"The request has more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files."
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    size_detail = _request_size_detail(exc)
    if size_detail is not None:
        return Response({"detail": size_detail}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=_django_validation_detail(exc))
    if isinstance(exc, ConflictError):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        # Services validate first; reaching here means a concurrent change or a database invariant.
        return Response(
            {"detail": "The change conflicts with the current state of the books.", "reason": str(exc).split("\n")[0]},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)
