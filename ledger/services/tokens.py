"""Personal API tokens: a random secret shown once; only its SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from financetracker.core.tenancy import remember_household_roles
from ledger.models import ApiToken, User

TOKEN_PREFIX = "ft_"  # noqa: S105 - a recognisable prefix, not a secret


def token_hash(secret: str) -> str:
    # The secret has 256 bits of entropy, so a fast hash is safe and keeps authentication cheap.
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_token_create(*, user: User, name: str = "API token") -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name[:100] or "API token", prefix=secret[:10], key_hash=token_hash(secret)
    )
    return token, secret


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


_BEARER_LOOKUP = """
SELECT {columns}, m.ids, m.roles
FROM ledger_apitoken t
INNER JOIN ledger_user u ON u.id = t.user_id
LEFT JOIN LATERAL (
    SELECT ARRAY_AGG(mm.household_id ORDER BY mm.household_id) AS ids,
           ARRAY_AGG(mm.role ORDER BY mm.household_id) AS roles
    FROM ledger_membership mm
    WHERE mm.user_id = u.id
) m ON TRUE
WHERE t.key_hash = %s AND t.revoked_at IS NULL AND u.is_active
LIMIT 1
"""


class _TokenStatement:
    """The bearer look-up as one parameterised statement, its SQL built once per process.

    Every API request runs it first. Through the ORM the same query (token joined to its user, the person's
    memberships aggregated beside it) was compiled on every request — `names_to_path`, `setup_joins`,
    expression hashing — which cost more Python than the rest of a small request (bench/README.md). Rows
    become model instances the way the ORM makes them (`Model.from_db`, each field's database converters).
    """

    def __init__(self) -> None:
        self.token_fields = list(ApiToken._meta.concrete_fields)
        self.user_fields = list(User._meta.concrete_fields)
        self.token_attnames = [f.attname for f in self.token_fields]
        self.user_attnames = [f.attname for f in self.user_fields]
        self._sql: str | None = None
        self._converters: list[tuple[int, Any, list[Any]]] | None = None

    def sql(self) -> str:
        if self._sql is None:
            quote = connection.ops.quote_name
            columns = [f"t.{quote(str(f.column))}" for f in self.token_fields]
            columns += [f"u.{quote(str(f.column))}" for f in self.user_fields]
            # Identifiers come from the models' metadata; the hash is the one bound parameter.
            self._sql = _BEARER_LOOKUP.format(columns=", ".join(columns))
        return self._sql

    def converters(self) -> list[tuple[int, Any, list[Any]]]:
        """(column index, column, converters) for the columns that have any, as the ORM's compiler applies them
        (none for these models on PostgreSQL today; a field that gains one keeps working)."""
        if self._converters is None:
            found = []
            for index, field in enumerate([*self.token_fields, *self.user_fields]):
                column = field.cached_col
                functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if functions:
                    found.append((index, column, functions))
            self._converters = found
        return self._converters

    def fetch(self, key_hash: str) -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql(), [key_hash])
            row: tuple[Any, ...] | None = cursor.fetchone()
        return row

    def instances(self, row: tuple[Any, ...]) -> tuple[ApiToken, list[int], list[str]]:
        values = list(row)
        for index, column, functions in self.converters():
            for convert in functions:
                values[index] = convert(values[index], column, connection)
        split, end = len(self.token_fields), len(self.token_fields) + len(self.user_fields)
        token = ApiToken.from_db(connection.alias, self.token_attnames, values[:split])
        user = User.from_db(connection.alias, self.user_attnames, values[split:end])
        ApiToken._meta.get_field("user").set_cached_value(token, user)
        return token, values[-2] or [], values[-1] or []


_STATEMENT = _TokenStatement()


def _fetch_token_row(key_hash: str) -> tuple[Any, ...] | None:
    """The token's row; once more on a fresh connection when the persistent one turned out dead.

    The per-request health check only polls the connection's socket (financetracker/postgresql): a
    connection PostgreSQL drops after that poll, or whose drop has not reached the socket yet, fails
    here, on every bearer request's first statement. Outside a transaction the look-up is a plain read:
    closing the dead connection and asking again answers the request, as the check would have. A second
    failure (the database really is down) propagates: a 503 from DatabaseOutageMiddleware.
    """
    reused = connection.connection  # the persistent connection this request starts on, if any
    try:
        return _STATEMENT.fetch(key_hash)
    except (OperationalError, InterfaceError):
        # Only that connection found dead is retried; a connect refused or timed out is not (asking twice
        # would double the wait while the database is down), nor a statement inside a transaction.
        dead = reused is not None and connection.connection is reused and (reused.closed or reused.broken)
        if not dead or connection.in_atomic_block:
            raise
        connection.close()
        return _STATEMENT.fetch(key_hash)


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    # The person's memberships come with the token, in the same statement: every API request needs them
    # (household_roles scopes every query), and one round trip fewer is most of what a small request
    # waits for on a busy database machine (bench/README.md).
    row = _fetch_token_row(token_hash(secret))
    if row is None:
        return None
    token, household_ids, roles = _STATEMENT.instances(row)
    remember_household_roles(token.user, dict(zip(household_ids, roles, strict=True)))
    now = timezone.now()
    # Record use at most once a minute so authentication stays a read on the hot path.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
