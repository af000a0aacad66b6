"""Upload -> preview -> confirm -> apply on a real Celery worker (Redis broker)."""

import datetime
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citizens.choices import ChangeSource, Education
from citizens.models import RecordChange
from stakeholders import importing
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch
from tests.factories import resident_create


def wait_for(batch_id: int, *statuses: str, timeout: float = 60) -> ExchangeBatch:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        batch = ExchangeBatch.objects.get(pk=batch_id)
        if batch.status in statuses:
            return batch
        time.sleep(0.2)
    raise AssertionError(f"batch stayed {batch.status}, expected one of {statuses}")


@pytest.mark.celery_worker
def test_real_worker_checks_then_applies_a_confirmed_upload(
    celery_worker_app, settings, tmp_path, education_office, admin_of
) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    admin = admin_of(education_office)
    people = [
        resident_create(full_name=f"WARGA WORKER {i}", birth_date=datetime.date(1990, 5, 17))
        for i in range(3)
    ]
    lines = ["nik;nama_lengkap;tanggal_lahir;pendidikan"]
    lines += [f"{p.nik};{p.full_name};17/05/1990;{Education.MASTER}" for p in people]
    lines.append(f"{people[0].nik[:15]};SALAH;17/05/1990;9")
    batch = importing.batch_receive_file(
        institution=education_office,
        user=admin,
        upload=SimpleUploadedFile("data.csv", ("\n".join(lines) + "\n").encode("utf-8-sig")),
        format=UploadFormat.FIELD_UPDATE,
    )

    batch = wait_for(batch.pk, UploadStatus.PREVIEWED, UploadStatus.REFUSED)
    assert batch.status == UploadStatus.PREVIEWED
    assert (batch.counts[RowOutcome.CHANGED], batch.counts[RowOutcome.ERROR]) == (3, 1)
    assert not RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).exists()

    importing.batch_confirm(batch=batch, user=admin)
    batch = wait_for(batch.pk, UploadStatus.APPLIED, UploadStatus.REFUSED)

    assert batch.status == UploadStatus.APPLIED
    assert batch.rows_done == batch.rows_total == 4
    for person in people:
        person.refresh_from_db()
        assert person.education == Education.MASTER
    assert RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).count() == 3
