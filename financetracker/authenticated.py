"""Request types for views that only a signed-in person reaches (the admin site requires a staff login, the API's
permission classes an authenticated user): `request.user` is then a `User`, never `AnonymousUser`.

`AuthenticatedHttpRequest` / `AuthenticatedRequest` annotate such views; where Django's own signature says
`HttpRequest` (a `ModelAdmin` override), `authenticated(request)` checks and narrows it."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from rest_framework.request import Request

if TYPE_CHECKING:
    from ledger.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """A Django request behind `admin_site.admin_view` or `login_required`."""

    user: User


class AuthenticatedRequest(Request):
    """A DRF request behind a permission class that refuses anonymous users (every API view's)."""

    if TYPE_CHECKING:

        @property
        def user(self) -> User: ...
        @user.setter
        def user(self, value: User) -> None: ...


def authenticated(request: HttpRequest) -> AuthenticatedHttpRequest:
    """The request, typed as signed in; refused if it is not (AUTH_USER_MODEL is `ledger.User`)."""
    if not request.user.is_authenticated:
        raise PermissionDenied("Sign in first.")
    return cast(AuthenticatedHttpRequest, request)
