import datetime
import importlib
import os
import shutil

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection

from citizens.choices import FamilyRelation, Role, Sex
from citizens.models import Desa, Kecamatan
from tests.factories import UserFactory, family_create, resident_create

REQUIRE_SYSTEM_TOOLS = bool(os.environ.get("REQUIRE_SYSTEM_TOOLS"))


def require_tool(name: str) -> str:
    """Path of a system tool; skip visibly without it, but fail in CI where it must exist."""
    path = shutil.which(name)
    if path is None:
        message = f"system tool '{name}' is not installed"
        if REQUIRE_SYSTEM_TOOLS:
            pytest.fail(message + " (CI must install it)")
        pytest.skip(message)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL (CI does)")
    skip_worker = pytest.mark.skip(reason="needs Redis for a real Celery worker: set REDIS_URL")
    skip_redis = pytest.mark.skip(reason="needs a Redis server: set REDIS_URL (CI does)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            if REQUIRE_SYSTEM_TOOLS:
                raise pytest.UsageError(
                    "CI must run PostgreSQL tests: DATABASE_URL is not PostgreSQL"
                )
            item.add_marker(skip_pg)
        if "celery_worker" in item.keywords and not os.environ.get("REDIS_URL"):
            if REQUIRE_SYSTEM_TOOLS:
                raise pytest.UsageError("CI must run Celery worker tests: REDIS_URL is not set")
            item.add_marker(skip_worker)
        if "redis" in item.keywords and not os.environ.get("REDIS_URL"):
            if REQUIRE_SYSTEM_TOOLS:
                raise pytest.UsageError("CI must run Redis tests: REDIS_URL is not set")
            item.add_marker(skip_redis)


# Migrations that create database objects beyond the models' tables (PostgreSQL triggers),
# which the test database, built from the models (--no-migrations), would otherwise lack.
DATABASE_OBJECT_MIGRATIONS = [
    "citizens.migrations.0010_page_generation",
    "submissions.migrations.0006_page_generation_trigger",
    "citizens.migrations.0011_page_bump_once_per_update",
    "submissions.migrations.0007_page_bump_once_per_update",
    "citizens.migrations.0013_history_append_only",
    "submissions.migrations.0008_submissionevent_append_only",
]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the 16 kecamatan and 494 villages loaded, and the
    migrations' triggers installed."""
    with django_db_blocker.unblock():
        with connection.schema_editor() as editor:
            for name in DATABASE_OBJECT_MIGRATIONS:
                importlib.import_module(name).create(None, editor)
        call_command("load_areas", verbosity=0)


@pytest.fixture(autouse=True)
def _areas_present(request: pytest.FixtureRequest) -> None:
    """Transactional tests flush every table; put the reference areas back for the next test."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(
        marker and marker.kwargs.get("transaction")
    )
    if not (marker or transactional or "db" in request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if transactional else "db")
    if not Kecamatan.objects.exists():
        call_command("load_areas", verbosity=0)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Rate limits and other cached state must not leak from one test into the next."""
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture
def kecamatan_purworejo(db) -> Kecamatan:
    return Kecamatan.objects.get(code="330606")


@pytest.fixture
def desa(kecamatan_purworejo: Kecamatan) -> Desa:
    return Desa.objects.filter(kecamatan=kecamatan_purworejo).order_by("code").first()


@pytest.fixture
def other_desa(kecamatan_purworejo: Kecamatan) -> Desa:
    """A village in another kecamatan."""
    return Desa.objects.exclude(kecamatan=kecamatan_purworejo).order_by("code").first()


def _with_totp(user):
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.fixture
def citizen(db):
    return UserFactory(role=Role.CITIZEN)


@pytest.fixture
def operator_desa(desa):
    return _with_totp(UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa))


@pytest.fixture
def officer_kecamatan(kecamatan_purworejo):
    return _with_totp(
        UserFactory(role=Role.OFFICER_KECAMATAN, jurisdiction_kecamatan=kecamatan_purworejo)
    )


@pytest.fixture
def verifier(db):
    return _with_totp(UserFactory(role=Role.VERIFIER))


@pytest.fixture
def head(db):
    return _with_totp(UserFactory(role=Role.HEAD))


@pytest.fixture
def analyst(db):
    return UserFactory(role=Role.ANALYST)


@pytest.fixture
def system_admin(db):
    return _with_totp(UserFactory(role=Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True))


@pytest.fixture
def officer_without_totp(desa):
    return UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)


@pytest.fixture
def verified_email():
    def mark(user):
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        return user

    return mark


@pytest.fixture
def celery_worker_app(transactional_db):
    """A real Celery worker (threads, Redis broker) running the project's tasks."""
    from celery.contrib.testing.worker import start_worker

    from purworejo_portal.celery import app

    app.conf.task_always_eager = False
    app.control.purge()  # nothing left over from another run may reach this worker
    try:
        with start_worker(
            app, pool="threads", concurrency=1, perform_ping_check=False, loglevel="WARNING"
        ):
            yield app
    finally:
        app.conf.task_always_eager = True
        connection.close()


@pytest.fixture
def family_of_three(desa):
    """A family card in `desa`: the citizen herself, her husband and their child."""
    family = family_create(desa=desa)
    me = resident_create(family=family, full_name="SITI PEMILIK")
    spouse = resident_create(
        family=family,
        full_name="BUDI SUAMI",
        sex=Sex.MALE,
        relation=FamilyRelation.HUSBAND,
        birth_date=datetime.date(1987, 3, 4),
    )
    child = resident_create(
        family=family,
        full_name="ANAK PERTAMA",
        relation=FamilyRelation.CHILD,
        birth_date=datetime.date(2015, 8, 9),
    )
    return me, spouse, child
