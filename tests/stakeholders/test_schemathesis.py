"""The API against its own OpenAPI schema: schemathesis generates requests (valid and
invalid) for every operation, sends them with a valid key to the in-process WSGI app, and
fails on any server error. Bounded (a few examples per operation, derandomised), so the run
stays well under two minutes in `make test` and CI."""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from purworejo_portal.wsgi import application
from tests.factories import resident_create
from tests.stakeholders.apikit import issue_key

MAX_EXAMPLES = 25


# Loaded at collection through the app itself (generating the schema needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes the database connection after each request, which would end
    the test's transaction on PostgreSQL; Django's own test client does the same as here."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(education_office, institution_admin, settings, tmp_path) -> str:
    settings.API_KEY_RATE = "100000/min"
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0
    settings.MEDIA_ROOT = tmp_path / "private"
    resident_create()
    return issue_key(education_office, institution_admin)


@schema.exclude(path="/api/schema/").parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_without_server_errors_for_generated_requests(
    case, api_key, django_capture_on_commit_callbacks
) -> None:
    # API batches are validated and applied by on-commit tasks: run them too.
    with django_capture_on_commit_callbacks(execute=True):
        response = case.call(headers={"Authorization": f"Bearer {api_key}"})
    case.validate_response(response, checks=[not_a_server_error])
