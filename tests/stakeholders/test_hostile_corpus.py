"""Every file of the hostile corpus gives a clear refusal or row errors, and changes nothing
it should not: the registry and its history are compared before and after."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citizens.choices import ChangeSource, Education
from citizens.models import Family, NonPermanentResident, PermanentResident, RecordChange
from stakeholders import importing, parsing
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus
from tests.factories import resident_create
from tests.stakeholders.corpus import CASES, Case, Person


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def english_reasons(settings):
    """Workers write reasons in the default language; English here keeps the phrases below
    independent of the catalogue (the Indonesian default is tested separately)."""
    settings.LANGUAGE_CODE = "en"


def registry_state() -> tuple[object, ...]:
    return (
        sorted(PermanentResident.objects.values_list("pk", "version", "education")),
        sorted(NonPermanentResident.objects.values_list("pk", "version")),
        sorted(Family.objects.values_list("pk", "version")),
        RecordChange.objects.count(),
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_file_is_refused_or_gives_row_errors_and_changes_nothing_else(
    case: Case, education_office, admin_of, english_reasons
) -> None:
    resident = resident_create(full_name="SITI UJI", birth_date=datetime.date(1990, 5, 17))
    person = Person(nik=resident.nik, name="SITI UJI", birth="1990-05-17")
    admin = admin_of(education_office)
    content = case.build(person)
    before = registry_state()

    batch = importing.batch_receive_file(
        institution=education_office,
        user=admin,
        upload=SimpleUploadedFile(case.filename, content),
        format=UploadFormat.FIELD_UPDATE,
    )

    if case.refusal:
        assert batch.status == UploadStatus.REFUSED
        assert batch.refusal
        assert not batch.file
        with pytest.raises(parsing.FileRefused) as refused:
            parsing.parse_file(content, format=UploadFormat.FIELD_UPDATE)
        assert refused.value.code == case.refusal
        assert batch.refusal == str(refused.value.message)
        assert registry_state() == before
        return

    assert batch.status == UploadStatus.RECEIVED
    assert batch.file.name.startswith(f"exchange/{education_office.pk}/")
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.PREVIEWED
    importing.batch_confirm(batch=batch, user=admin)
    importing.batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.APPLIED
    if case.row_error:
        assert batch.counts[RowOutcome.ERROR] == batch.rows_total > 0
        errors = list(batch.rows.values_list("errors", flat=True))
        assert all(case.row_error in text for text in errors), errors
        assert registry_state() == before
    else:
        resident.refresh_from_db()
        assert resident.education == Education.DIPLOMA_4_S1
        assert RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).count() == 1


def test_entity_expansion_is_stopped_by_defusedxml_even_without_the_dtd_check(
    monkeypatch,
) -> None:
    from tests.stakeholders.corpus import entity_expansion

    content = entity_expansion(Person(nik="3306065705900001", name="SITI UJI", birth="1990-05-17"))
    monkeypatch.setattr(parsing, "_declares_dtd", lambda archive, member: False)
    with pytest.raises(parsing.FileRefused) as refused:
        parsing.parse_file(content, format=UploadFormat.FIELD_UPDATE)
    assert refused.value.code == "xlsx_broken"


def test_row_errors_are_written_in_indonesian_by_default(education_office, admin_of) -> None:
    resident = resident_create(full_name="SITI UJI", birth_date=datetime.date(1990, 5, 17))
    admin = admin_of(education_office)
    batch = importing.batch_receive_file(
        institution=education_office,
        user=admin,
        upload=SimpleUploadedFile(
            "data.csv",
            f"nik,nama_lengkap,tanggal_lahir,pendidikan\n{resident.nik[:15]},A,B,8\n".encode(),
        ),
        format=UploadFormat.FIELD_UPDATE,
    )
    importing.batch_validate(batch_id=batch.pk)
    assert "NIK harus tepat 16 digit" in batch.rows.get().errors
