"""The PostgreSQL backend checks a kept connection only when it has sat idle."""

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, connection, connections

from purworejo_portal.db.postgresql import base

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def checks(monkeypatch) -> list[bool]:
    """Records each health check the backend makes."""
    made: list[bool] = []
    real = base.DatabaseWrapper.is_usable

    def is_usable(self) -> bool:
        made.append(True)
        return real(self)

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", is_usable)
    return made


def _request(sql: str = "SELECT 1") -> object:
    """What a request does to the connection: settle it, query, settle it again."""
    connection.close_if_unusable_or_obsolete()
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    connection.close_if_unusable_or_obsolete()
    return row


def _terminate_backend() -> None:
    pid = connection.connection.info.backend_pid
    with psycopg.connect(**connection.get_connection_params()) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.fixture
def kept_connection():
    assert type(connections["default"]) is base.DatabaseWrapper
    connection.close()
    connection.settings_dict["CONN_HEALTH_CHECKS"] = True
    connection.settings_dict["CONN_MAX_AGE"] = 600
    yield connection
    connection.settings_dict["CONN_MAX_AGE"] = 0
    connection.close()


def test_connection_is_not_checked_when_it_served_a_request_moments_ago(
    kept_connection, checks
) -> None:
    _request()  # a new connection: no check needed
    _request()
    _request()
    assert checks == []


def test_idle_connection_is_checked_and_replaced_when_the_server_dropped_it(
    kept_connection, checks, monkeypatch
) -> None:
    _request()
    first_pid = connection.connection.info.backend_pid
    _terminate_backend()  # as a database restart does
    # Later than the window: the connection has sat idle, so it is checked first.
    monkeypatch.setattr(base, "RECENTLY_USED_SECONDS", 0.0)
    assert _request("SELECT 42") == (42,)
    assert checks == [True]
    assert connection.connection.info.backend_pid != first_pid


def test_recently_used_connection_fails_once_and_is_replaced_when_the_server_dropped_it(
    kept_connection,
) -> None:
    _request()
    _terminate_backend()
    # Within the window the first query meets the dropped connection, as without checks...
    connection.close_if_unusable_or_obsolete()
    with pytest.raises((InterfaceError, OperationalError)), connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # ...and the end of that request drops it, so the next request works.
    connection.close_if_unusable_or_obsolete()
    assert _request("SELECT 7") == (7,)
