"""A Celery worker killed (SIGKILL, the whole process group) in the middle of applying a
20,000-row file, then started again: the registry ends exactly as after an uninterrupted
apply, and no history row is written twice."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from citizens.choices import ChangeSource, Education, LifeStatus
from citizens.models import PermanentResident, RecordChange
from purworejo_portal.celery import app
from stakeholders import importing
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, ExchangeRow

ROWS = 20_000
ROOT = Path(django_settings.BASE_DIR)

pytestmark = [pytest.mark.postgres, pytest.mark.celery_worker]


def _worker(log: Path) -> subprocess.Popen[bytes]:
    """A real worker process (prefork, two children) on this test database and broker; its
    own session, so one signal reaches the parent and every child."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "purworejo_portal.settings.test",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        # Unacknowledged tasks of the killed worker come back after 5 s, not an hour.
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_UNACKED_RESTORE_SECONDS": "2",
        "IMPORT_APPLY_WORKERS": "2",
    }
    command = [sys.executable, "-m", "celery", "-A", "purworejo_portal", "worker"]
    options = ["--pool", "prefork", "--concurrency", "2", "--loglevel", "WARNING"]
    return subprocess.Popen(
        [*command, *options, "--without-mingle", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _kill(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def _state(batch_id: int, ids: list[int]) -> tuple[dict[int, int], list[tuple]]:
    """Education of every resident in the file, and every history row of the batch."""
    education = dict(PermanentResident.objects.filter(pk__in=ids).values_list("pk", "education"))
    history = sorted(
        (change.record_id, change.field, change.old_value, change.new_value, change.source_ref)
        for change in RecordChange.objects.filter(
            source=ChangeSource.IMPORT_ROW, source_ref__startswith=f"b{batch_id}:"
        )
    )
    return education, history


def _file() -> tuple[bytes, list[int]]:
    rng = random.Random(20)
    residents = list(
        PermanentResident.objects.filter(life_status=LifeStatus.ALIVE)
        .order_by("pk")
        .only("nik", "full_name", "birth_date", "education")[:ROWS]
    )
    assert len(residents) == ROWS
    lines = ["nik,nama_lengkap,tanggal_lahir,pendidikan"]
    for resident in residents:
        level = rng.choice([value for value in Education.values if value != resident.education])
        lines.append(f"{resident.nik},{resident.full_name},{resident.birth_date:%Y-%m-%d},{level}")
    return ("\n".join(lines) + "\n").encode(), [resident.pk for resident in residents]


def _wait(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_resumes_to_the_same_registry_without_duplicate_history(
    transactional_db, settings, tmp_path, education_office, admin_of
) -> None:
    settings.DEBUG = True  # seed_demo refuses to invent people otherwise
    call_command("seed_demo", residents=ROWS + 2000, seed=5, no_accounts=True, stdout=None)
    settings.DEBUG = False
    admin = admin_of(education_office)
    content, ids = _file()
    # Tasks run in-process here (test settings): this stores the file and checks every row.
    batch = importing.batch_receive_file(
        institution=education_office,
        user=admin,
        upload=SimpleUploadedFile("pendidikan.csv", content),
        format=UploadFormat.FIELD_UPDATE,
    )
    batch.refresh_from_db()
    assert batch.status == UploadStatus.PREVIEWED, batch.refusal
    assert batch.counts[RowOutcome.CHANGED] == ROWS
    before = _state(batch.pk, ids)

    # The reference: the same batch applied without interruption, then rolled back.
    with transaction.atomic():
        ExchangeBatch.objects.filter(pk=batch.pk).update(
            confirmed_by=admin, confirmed_at=timezone.now()
        )
        importing.batch_apply(batch_id=batch.pk)
        assert ExchangeBatch.objects.get(pk=batch.pk).status == UploadStatus.APPLIED
        expected = _state(batch.pk, ids)
        transaction.set_rollback(True)
    assert _state(batch.pk, ids) == before
    assert len(expected[1]) == ROWS

    log = tmp_path / "worker.log"
    app.control.purge()
    worker = _worker(log)
    try:
        app.conf.task_always_eager = False
        importing.batch_confirm(batch=batch, user=admin)
        app.conf.task_always_eager = True

        def applied() -> int:
            return ExchangeRow.objects.filter(batch_id=batch.pk, applied=True).count()

        _wait(lambda: applied() >= ROWS // 4, timeout=120, what="the worker to start applying")
        _kill(worker)
        midway = applied()
        assert 0 < midway < ROWS, midway  # really killed in the middle
        assert ExchangeBatch.objects.get(pk=batch.pk).status == UploadStatus.APPLYING
        # What the killed worker committed is whole chunks, each with its history.
        assert len(_state(batch.pk, ids)[1]) == midway

        worker = _worker(log)
        _wait(
            lambda: ExchangeBatch.objects.get(pk=batch.pk).status == UploadStatus.APPLIED,
            timeout=180,
            what=f"the restarted worker to finish (log: {log.read_text()[-2000:]})",
        )
    finally:
        app.conf.task_always_eager = True
        _kill(worker)
        app.control.purge()

    assert _state(batch.pk, ids) == expected
    batch.refresh_from_db()
    assert batch.rows_done == batch.rows_total == ROWS
    assert batch.counts[RowOutcome.CHANGED] == ROWS
