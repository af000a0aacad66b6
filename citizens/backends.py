"""The authentication backends, with a cheaper load of the signed-in account.

Every signed-in request loads its account by primary key. Through the ORM that costs 0.4 ms of
CPU (building and compiling the query), four times the round trip itself; on PostgreSQL the
row is read with one fixed statement and built with `Model.from_db`, as the ORM would build it
(psycopg already returns Python values, so there are no converters to apply). Other databases
take the ORM's path. With the portal's sessions (citizens.sessions) the row usually comes
with the session, read by the same statement. Which accounts may sign in is unchanged:
`user_can_authenticate` still decides, and Django still compares the session's password hash.
"""

import functools
from typing import Any

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.db import connection

from citizens import sessions
from citizens.db import model_columns
from citizens.models import User


@functools.cache
def _select_by_pk() -> tuple[str, list[str]]:
    columns, attnames = model_columns(User, connection)
    quote = connection.ops.quote_name
    # Quoted names from the model, never input; the id is a parameter.
    sql = (
        f"SELECT {columns} FROM {quote(User._meta.db_table)} "  # noqa: S608
        f"WHERE {quote(str(User._meta.pk.column))} = %s"
    )
    return sql, attnames


def user_by_pk(user_id: Any) -> User | None:
    """The account with this primary key as the ORM would load it, or None (PostgreSQL only)."""
    sql, attnames = _select_by_pk()
    with connection.cursor() as cursor:
        cursor.execute(sql, [user_id])
        row = cursor.fetchone()
    return None if row is None else User.from_db(connection.alias, attnames, row)


class FastUserLoadMixin:
    def get_user(self, user_id: Any) -> User | None:
        if connection.vendor != "postgresql":
            orm_loaded: User | None = super().get_user(user_id)  # type: ignore[misc]
            return orm_loaded
        found, user = sessions.take_prefetched_account(user_id)
        if not found:
            user = user_by_pk(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None  # type: ignore[attr-defined]


class ModelBackend(FastUserLoadMixin, django_backends.ModelBackend):
    pass


class AuthenticationBackend(FastUserLoadMixin, allauth_backends.AuthenticationBackend):  # type: ignore[misc]
    pass
