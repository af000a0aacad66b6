"""Row errors name the column and the problem, never the cell's value: a NIK put in a choice
column must not reach ExchangeRow.errors, the API's batch status or the error CSV."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citizens.choices import Role
from stakeholders import importing
from stakeholders.choices import InstitutionKind, RowOutcome, UploadFormat
from stakeholders.models import ExchangeRow, InstitutionMember
from tests.factories import UserFactory, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements

# NIK-shaped, and not the row's own NIK: a neighbour's number pasted into the wrong column.
STRAY_NIK = "3306065203880007"
# Digits of it that no message, date or line number of these tests contains.
STRAY_DIGITS = "5203880007"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def office_and_admin(db):
    office = institution_with_agreements(
        name="Dinas Pendidikan Uji", kind=InstitutionKind.EDUCATION_OFFICE
    )
    admin = UserFactory(role=Role.INSTITUTION_ADMIN)
    InstitutionMember.objects.create(
        user=admin, institution=office, invited_by=UserFactory(role=Role.HEAD)
    )
    return office, admin


def _assert_value_absent(batch_id: int) -> list[str]:
    rows = list(ExchangeRow.objects.filter(batch_id=batch_id))
    assert [row.outcome for row in rows] == [RowOutcome.ERROR]
    errors = rows[0].errors
    assert "pendidikan" in errors  # the column is named
    assert STRAY_NIK[:6] not in errors and STRAY_DIGITS not in errors
    error_csv = json.dumps(importing.batch_error_csv(rows[0].batch))
    assert STRAY_DIGITS not in error_csv
    return errors.split("\n")


def test_choice_error_omits_the_cell_value_when_a_nik_is_in_the_pendidikan_column_of_a_csv(
    office_and_admin,
) -> None:
    office, admin = office_and_admin
    resident = resident_create()
    content = (
        "nik,nama_lengkap,tanggal_lahir,pendidikan\n"
        f"{resident.nik},{resident.full_name},{resident.birth_date.isoformat()},{STRAY_NIK}\n"
    )
    batch = importing.batch_receive_file(
        institution=office,
        user=admin,
        upload=SimpleUploadedFile("data.csv", content.encode()),
        format=UploadFormat.FIELD_UPDATE,
    )

    importing.batch_validate(batch_id=batch.pk)

    _assert_value_absent(batch.pk)


def test_choice_error_omits_the_cell_value_when_a_nik_is_in_the_pendidikan_field_of_the_api(
    client, office_and_admin, django_capture_on_commit_callbacks
) -> None:
    office, admin = office_and_admin
    key = issue_key(office, admin)
    resident = resident_create()
    row = {
        "nik": resident.nik,
        "nama_lengkap": resident.full_name,
        "tanggal_lahir": resident.birth_date.isoformat(),
        "pendidikan": STRAY_NIK,
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:batches"),
            {"rows": [row]},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="stray-1",
            **auth(key),
        )

    batch_id = response.json()["id"]
    _assert_value_absent(batch_id)
    status = client.get(reverse("api:batch", args=[batch_id]), **auth(key))
    assert status.status_code == 200
    assert status.json()["rows"][0]["errors"]
    assert STRAY_DIGITS not in status.content.decode()
