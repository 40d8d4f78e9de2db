"""`manage.py create_api_token USERNAME [--name NAME]`: issue a personal API token and print it once."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ledger.services.tokens import api_token_create


class Command(BaseCommand):
    help = (
        "Create a personal API token for USERNAME and print its secret. The secret is shown only this once; "
        "only a hash is stored. Send it as 'Authorization: Bearer <token>'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The person the token acts as.")
        parser.add_argument(
            "--name", default="API token", help="A label to recognise the token by (default: %(default)s)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user is called {options['username']!r}.")
        if not user.is_active:
            raise CommandError(f"{user.get_username()!r} is inactive: a token would not authenticate.")
        name = options["name"].strip()
        if not name or len(name) > 100:
            raise CommandError("--name must be 1 to 100 characters.")
        token, secret = api_token_create(user=user, name=name)
        self.stdout.write(secret)
        self.stderr.write(
            f"Created token {token.prefix}… ({token.name}) for {user.get_username()}; it is not shown again."
        )
