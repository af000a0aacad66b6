"""Statements prepared once per PostgreSQL connection.

Django binds values on the client and never prepares, so PostgreSQL plans every statement
again; for the few statements run on every request (the session with its account, the cek
data fingerprint) planning costs more than running. A prepared statement lasts as long as its
database session, whatever happens to transactions; it is prepared again on a new connection.
"""

import weakref
from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

# The statements prepared on each psycopg connection (kept for CONN_MAX_AGE).
_prepared: "weakref.WeakKeyDictionary[Any, set[str]]" = weakref.WeakKeyDictionary()


def execute_prepared(cursor: Any, name: str, sql: str, params: Sequence[Any]) -> None:
    """Run `sql` (parameters written $1, $2 ...) on a Django cursor as the prepared statement
    `name`. `name` is a fixed identifier and `sql` is built from the models, never from input."""
    raw_connection = cursor.db.connection
    names = _prepared.setdefault(raw_connection, set())
    if name not in names:
        cursor.execute(f"PREPARE {name} AS {sql}")
        names.add(name)
    placeholders = ", ".join(["%s"] * len(params))
    cursor.execute(f"EXECUTE {name}({placeholders})", list(params))


def model_columns(
    model: type[Model], connection: BaseDatabaseWrapper, table: str = ""
) -> tuple[str, list[str]]:
    """The quoted columns of the model's concrete fields (qualified by `table` if given) and
    their attribute names, in the order `Model.from_db` takes a row."""
    fields = model._meta.concrete_fields
    prefix = f"{table}." if table else ""
    columns = ", ".join(prefix + connection.ops.quote_name(str(field.column)) for field in fields)
    return columns, [field.attname for field in fields]
