"""Sessions in the database with their account: one query reads both.

Every signed-in request reads its session and then its account. Kept in Redis (Django's
cached_db) that is a cache round trip and a database round trip; here the session row carries
the account's id as a column, and on PostgreSQL one prepared statement reads the session and
joins the account's row (about 0.4 ms less CPU per signed-in request than a Redis read and a
query; docs/benchmarks.md), and with it the account's cek data page generation
(citizens.PageGeneration). The account goes to the authentication backend for that request
only, and only for the id the session names: Django still decides everything else (which
backend, whether the account may sign in, the session's password hash). Other databases take
Django's own path.
"""

import functools
import json
from contextvars import ContextVar
from typing import Any, cast

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.core.signals import request_started, setting_changed
from django.db import connections, router
from django.dispatch import receiver
from django.utils import timezone

from citizens.db import execute_prepared, model_columns
from citizens.models import AccountSession, PageGeneration, User

# The account read with this request's session: (account id, the account or None when the
# row is gone). Cleared when a request starts and taken at most once, so it never outlives
# the request whose session read it.
_prefetched: ContextVar[tuple[int, User | None] | None] = ContextVar(
    "prefetched_account", default=None
)
# The account's page generation read by the same statement: (account id, generation).
_page_generation: ContextVar[tuple[int, int] | None] = ContextVar("page_generation", default=None)


@receiver(request_started)
def _forget_prefetched(**kwargs: Any) -> None:
    _prefetched.set(None)
    _page_generation.set(None)


def take_prefetched_account(user_id: Any) -> tuple[bool, User | None]:
    """Whether this request's session load read the account `user_id`, and the account (None
    when its row is gone)."""
    found = _prefetched.get()
    _prefetched.set(None)
    if found is None or str(found[0]) != str(user_id):
        return False, None
    return True, found[1]


def page_generation(user_id: Any) -> int | None:
    """The generation of account `user_id`'s cek data page as this request's session load read
    it (citizens.PageGeneration); None when it did not (another database, no row yet)."""
    found = _page_generation.get()
    if found is None or str(found[0]) != str(user_id):
        return None
    return found[1]


def _account_id(data: dict[str, Any]) -> int | None:
    try:
        return int(data[SESSION_KEY])
    except (KeyError, TypeError, ValueError):
        return None


# Sessions' signed texts remembered with what they decode to: checking the signature and
# inflating the data (Django's decode) is 146,000 instructions, a twelfth of a signed-in
# request, and a session's text stays the same from one request to the next until it is
# saved. The decoded data is kept as JSON, so each request gets objects of its own.
DECODED_SESSIONS = 4096


@functools.lru_cache(maxsize=DECODED_SESSIONS)
def _decoded_json(session_data: bytes | str) -> str:
    return json.dumps(db.SessionStore.decode(SessionStore(), session_data))


@receiver(setting_changed)
def _forget_decoded(*, setting: str, **kwargs: Any) -> None:
    # A text signed with a key no longer configured must not decode any more.
    if setting in {"SECRET_KEY", "SECRET_KEY_FALLBACKS"}:
        _decoded_json.cache_clear()


class SessionStore(db.SessionStore):
    @classmethod
    def get_model_class(cls) -> type[AccountSession]:
        return AccountSession

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(_decoded_json(session_data))
        return decoded

    def create_model_instance(self, data: dict[str, Any]) -> AccountSession:
        session = cast(AccountSession, super().create_model_instance(data))
        session.user_id = _account_id(data)
        return session

    async def acreate_model_instance(self, data: dict[str, Any]) -> AccountSession:
        session = cast(AccountSession, await super().acreate_model_instance(data))
        session.user_id = _account_id(data)
        return session

    def load(self) -> dict[str, Any]:
        _prefetched.set(None)
        _page_generation.set(None)
        connection = connections[router.db_for_read(AccountSession)]
        if connection.vendor != "postgresql":
            return super().load()
        sql, attnames = _select_with_account()
        with connection.cursor() as cursor:
            execute_prepared(cursor, "account_session", sql, [self.session_key])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return {}
        session_data, user_id, generation, *account = row
        if user_id is not None:
            user = None if account[0] is None else User.from_db(connection.alias, attnames, account)
            _prefetched.set((user_id, user))
            if generation is not None:
                _page_generation.set((user_id, generation))
        return self.decode(session_data)


@functools.cache
def _select_with_account() -> tuple[str, list[str]]:
    connection = connections[router.db_for_read(AccountSession)]
    quote = connection.ops.quote_name
    account_columns, attnames = model_columns(User, connection, table="u")
    user_pk = quote(str(User._meta.pk.column))
    # Quoted names from the models, never input; the session key is the parameter. now() is
    # the database's clock, as the expiry was written with the portal's (both UTC, NTP).
    # The account and the generation are looked up by the session's account id (LATERAL,
    # with OFFSET 0 so the planner keeps it that way): as plain joins, a generic plan made
    # with stale statistics merge-joined them, walking the account and generation indexes up
    # to that id on every request (docs/benchmarks.md).
    sql = (
        f"SELECT s.session_data, s.user_id, g.value, {account_columns} "  # noqa: S608
        f"FROM {quote(AccountSession._meta.db_table)} s "
        f"LEFT JOIN LATERAL (SELECT * FROM {quote(User._meta.db_table)} "
        f"WHERE {user_pk} = s.user_id OFFSET 0) u ON true "
        f"LEFT JOIN LATERAL (SELECT value FROM {quote(PageGeneration._meta.db_table)} "
        "WHERE user_id = s.user_id OFFSET 0) g ON true "
        "WHERE s.session_key = $1 AND s.expire_date > now()"
    )
    return sql, attnames


def sessions_clear_expired() -> int:
    """Delete the sessions past their expiry (Django's `clearsessions` does the same); returns
    how many. An expired session no longer signs anyone in, but its row still names the
    account: nothing is kept longer than it serves."""
    deleted, _by_model = AccountSession.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted
