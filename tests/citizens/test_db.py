"""Statements prepared once per PostgreSQL connection."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from citizens.db import execute_prepared

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SQL = "SELECT $1::int + 1"


def _run(value: int) -> int:
    with connection.cursor() as cursor:
        execute_prepared(cursor, "test_plus_one", SQL, [value])
        return cursor.fetchone()[0]


def test_a_statement_is_prepared_once_then_only_executed() -> None:
    with CaptureQueriesContext(connection) as first:
        assert _run(1) == 2
    with CaptureQueriesContext(connection) as second:
        assert _run(41) == 42
    assert [q["sql"] for q in first] == [
        f"PREPARE test_plus_one AS {SQL}",
        "EXECUTE test_plus_one(1)",
    ]
    assert [q["sql"] for q in second] == ["EXECUTE test_plus_one(41)"]


def test_a_prepared_statement_outlives_a_rolled_back_transaction() -> None:
    connection.close()  # so that it is prepared inside the transaction
    with pytest.raises(RuntimeError), transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            assert _run(1) == 2
        assert queries[0]["sql"].startswith("PREPARE test_plus_one")
        raise RuntimeError("roll back")
    assert _run(2) == 3


def test_a_new_connection_prepares_it_again() -> None:
    assert _run(1) == 2
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert _run(5) == 6
    assert queries[0]["sql"].startswith("PREPARE test_plus_one")
