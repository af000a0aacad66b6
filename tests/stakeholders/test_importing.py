import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from citizens import services as registry
from citizens.choices import ChangeSource, Education, HealthInsurance, MaritalStatus, Sex
from citizens.models import NonPermanentResident, PermanentResident, RecordChange
from stakeholders import importing
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, ExchangeRow
from submissions.choices import Channel, Kind, Status
from submissions.models import Submission
from tests.factories import NON_PERMANENT_BIRTH_DATE, non_permanent_create, resident_create
from verification import services as review_services
from verification.choices import Outcome
from verification.merge import MergeInput

HEADER = "nik,nama_lengkap,tanggal_lahir"


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    # Workers write reasons in the default language: English keeps the phrases below stable.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def resident(db) -> PermanentResident:
    return resident_create(full_name="SITI UJI", birth_date=datetime.date(1990, 5, 17))


def csv_file(*lines: str, name: str = "data.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode())


def receive(institution, user, upload, format=UploadFormat.FIELD_UPDATE) -> ExchangeBatch:
    return importing.batch_receive_file(
        institution=institution, user=user, upload=upload, format=format
    )


def run(institution, user, upload, format=UploadFormat.FIELD_UPDATE) -> ExchangeBatch:
    """Receive, validate, confirm and apply, as the workers would."""
    batch = receive(institution, user, upload, format)
    if batch.status == UploadStatus.REFUSED:
        return batch
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.PREVIEWED
    importing.batch_confirm(batch=batch, user=user)
    importing.batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def row_of(batch: ExchangeBatch, line: int = 2) -> ExchangeRow:
    return batch.rows.get(line=line)


def test_education_office_value_is_adopted_with_history_naming_the_upload_row(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    upload = csv_file(
        f"{HEADER},pendidikan,sekolah",
        f"{resident.nik},Siti  Uji,1990-05-17,{Education.DIPLOMA_4_S1},SMA Negeri 1 Purworejo",
    )
    batch = receive(education_office, admin, upload)
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.PREVIEWED
    assert batch.counts[RowOutcome.CHANGED] == 1
    assert batch.field_summary == {"education": {"changed": 1}, "school_enrolment": {"new": 1}}
    resident.refresh_from_db()
    assert resident.education == Education.SENIOR_SECONDARY  # nothing before confirmation

    importing.batch_confirm(batch=batch, user=admin)
    importing.batch_apply(batch_id=batch.pk)

    batch.refresh_from_db()
    resident.refresh_from_db()
    assert batch.status == UploadStatus.APPLIED
    assert batch.rows_done == batch.rows_total == 1
    assert resident.education == Education.DIPLOMA_4_S1
    assert resident.school_enrolment == "SMA Negeri 1 Purworejo"
    change = RecordChange.objects.get(
        record_id=resident.pk, field="education", source=ChangeSource.IMPORT_ROW
    )
    assert change.source == ChangeSource.IMPORT_ROW
    assert change.source_ref == f"b{batch.pk}:2"
    assert education_office.name in change.reason and "line 2" in change.reason
    assert change.actor == admin


def test_health_office_values_are_adopted(health_office, admin_of, resident) -> None:
    admin = admin_of(health_office)
    batch = run(
        health_office,
        admin,
        csv_file(
            f"{HEADER},jaminan_kesehatan,disabilitas",
            f"{resident.nik},SITI UJI,17-05-1990,{HealthInsurance.JKN_PBI},2",
        ),
    )
    resident.refresh_from_db()
    assert row_of(batch).outcome == RowOutcome.CHANGED
    assert (resident.health_insurance, resident.disability) == (HealthInsurance.JKN_PBI, 2)


def test_religious_office_marital_status_goes_to_review_when_its_authority_says_so(
    religious_office, admin_of, resident
) -> None:
    admin = admin_of(religious_office)
    batch = run(
        religious_office,
        admin,
        csv_file(
            f"{HEADER},status_perkawinan,nomor_akta_perkawinan,tanggal_akta_perkawinan",
            f"{resident.nik},SITI UJI,17/05/1990,{MaritalStatus.DIVORCED_REGISTERED},"
            "AC-123/2026,02/03/2026",
        ),
    )
    resident.refresh_from_db()
    assert row_of(batch).outcome == RowOutcome.REVIEW
    assert resident.marital_status == MaritalStatus.MARRIED_REGISTERED
    submission = Submission.objects.get(kind=Kind.INSTITUTION_UPDATE)
    assert submission.status == Status.SUBMITTED
    assert submission.channel == Channel.INSTITUTION_CSV
    assert submission.subject_id == resident.pk
    assert submission.desa == resident.family.desa
    items = {item.field: item.value_after for item in submission.items.all()}
    assert items == {
        "marital_status": str(MaritalStatus.DIVORCED_REGISTERED),
        "marriage_record_number": "AC-123/2026",
        "marriage_record_date": "2026-03-02",
    }
    assert not RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).exists()


def test_field_outside_the_authority_is_a_row_error_and_changes_nothing(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    batch = run(
        education_office,
        admin,
        csv_file(f"{HEADER},jaminan_kesehatan", f"{resident.nik},SITI UJI,1990-05-17,jkn_pbi"),
    )
    row = row_of(batch)
    assert row.outcome == RowOutcome.ERROR
    assert "jaminan_kesehatan" in row.errors
    resident.refresh_from_db()
    assert resident.health_insurance == ""


def test_core_identity_column_is_refused_for_every_institution(
    education_office, admin_of, resident
) -> None:
    batch = receive(
        education_office,
        admin_of(education_office),
        csv_file(f"{HEADER},tempat_lahir", f"{resident.nik},SITI UJI,1990-05-17,MAGELANG"),
    )
    assert batch.status == UploadStatus.REFUSED
    assert "tempat_lahir" in batch.refusal


ROSTER_HEADER = (
    "nik,nama_lengkap,tanggal_lahir,jenis_kelamin,alamat_asal,kode_wilayah_asal,"
    "alamat_domisili,kode_desa_domisili,tujuan,tanggal_mulai,tanggal_selesai"
)
F115_HEADER = "tempat_lahir,agama,status_perkawinan,pendidikan,pekerjaan,rt_domisili,rw_domisili"


def test_university_roster_registers_a_newcomer_after_review(
    university, admin_of, desa, operator_desa, verifier
) -> None:
    admin = admin_of(university)
    nik = "3404010504030017"
    batch = run(
        university,
        admin,
        csv_file(
            f"{ROSTER_HEADER},{F115_HEADER}",
            f"{nik},Mahasiswa Baru,2003-04-05,L,Jalan Asal 2,3404012001,Asrama B,{desa.code},"
            "kuliah,2026-08-01,2027-07-31,SLEMAN,1,1,5,3,002,004",
        ),
        format=UploadFormat.ROSTER,
    )
    assert row_of(batch).outcome == RowOutcome.REVIEW, row_of(batch).errors
    submission = Submission.objects.get(kind=Kind.NON_PERMANENT)
    assert submission.status == Status.SUBMITTED
    items = {item.field: item.value_after for item in submission.items.all()}
    assert items["nik"] == nik
    assert items["domicile_desa"] == str(desa.pk)
    assert items["host_institution"] == university.name
    assert not NonPermanentResident.objects.exists()

    for officer in (operator_desa, verifier):
        submission = review_services.submission_decide(
            submission=Submission.objects.get(pk=submission.pk),
            officer=officer,
            outcome=Outcome.APPROVE,
            merge_input=MergeInput(registration_reference="F115/2026/0007"),
        )

    assert submission.status == Status.APPROVED
    person = NonPermanentResident.objects.get()
    assert (person.nik, person.full_name, person.birth_place) == (nik, "MAHASISWA BARU", "SLEMAN")
    assert (person.domicile_desa, person.domicile_rt, person.domicile_rw) == (desa, "002", "004")
    assert (person.education, person.host_institution) == (5, university.name)
    assert person.registration_reference == "F115/2026/0007"


def test_roster_newcomer_without_the_f115_elements_is_a_row_error(
    university, admin_of, desa
) -> None:
    batch = run(
        university,
        admin_of(university),
        csv_file(
            ROSTER_HEADER,
            f"3404010504030017,Mahasiswa Baru,2003-04-05,L,Jalan Asal 2,3404012001,Asrama B,"
            f"{desa.code},kuliah,2026-08-01,2027-07-31",
        ),
        format=UploadFormat.ROSTER,
    )
    row = row_of(batch)
    assert row.outcome == RowOutcome.ERROR
    assert "tempat_lahir, agama, status_perkawinan" in row.errors
    assert not Submission.objects.exists()


def test_company_roster_update_of_a_known_resident_goes_to_review(company, admin_of, desa) -> None:
    guest = non_permanent_create(desa=desa)
    batch = run(
        company,
        admin_of(company),
        csv_file(
            "nik,nama_lengkap,tanggal_lahir,jenis_kelamin,alamat_asal,kode_wilayah_asal,"
            "alamat_domisili,kode_desa_domisili,tujuan,tanggal_mulai,tanggal_selesai",
            f"{guest.nik},TAMU UJI,{NON_PERMANENT_BIRTH_DATE},1,Jalan Asal 1,3404012001,"
            f"Mess Karyawan,{desa.code},kerja,2026-01-01,2026-12-31",
        ),
        format=UploadFormat.ROSTER,
    )
    assert row_of(batch).outcome == RowOutcome.REVIEW, row_of(batch).errors
    submission = Submission.objects.get(kind=Kind.NON_PERMANENT)
    assert submission.subject_id == guest.pk
    changed = {item.field for item in submission.items.all()}
    assert changed == {"domicile_address", "purpose", "host_institution"}


@pytest.mark.parametrize(
    ("name", "birth"),
    [("SITI LAIN", "1990-05-17"), ("SITI UJI", "1990-05-18")],
    ids=["name", "birth-date"],
)
def test_identity_mismatch_is_a_row_error_and_updates_nothing(
    education_office, admin_of, resident, name, birth
) -> None:
    batch = run(
        education_office,
        admin_of(education_office),
        csv_file(f"{HEADER},pendidikan", f"{resident.nik},{name},{birth},8"),
    )
    assert row_of(batch).outcome == RowOutcome.ERROR
    assert "does not match the registry" in row_of(batch).errors
    resident.refresh_from_db()
    assert resident.education == Education.SENIOR_SECONDARY
    assert not RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).exists()


def test_older_value_is_ignored_and_reported_as_older(education_office, admin_of, resident) -> None:
    registry.record_update(
        record=resident, changes={"education": Education.MASTER}, source=ChangeSource.OFFICER
    )
    batch = run(
        education_office,
        admin_of(education_office),
        csv_file(
            f"{HEADER},pendidikan,berlaku_sejak",
            f"{resident.nik},SITI UJI,1990-05-17,{Education.DIPLOMA_3},2024-07-01",
        ),
    )
    assert batch.counts[RowOutcome.OLDER] == 1
    assert row_of(batch).outcome == RowOutcome.OLDER
    resident.refresh_from_db()
    assert resident.education == Education.MASTER


def test_same_file_uploaded_again_is_refused_pointing_at_the_first(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    lines = (f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8")
    first = run(education_office, admin, csv_file(*lines))
    history = RecordChange.objects.count()

    again = run(education_office, admin, csv_file(*lines, name="lagi.csv"))

    assert again.status == UploadStatus.REFUSED
    assert f"#{first.pk}" in again.refusal
    assert not again.file
    assert RecordChange.objects.count() == history


def test_expired_agreement_refuses_the_upload(expired_office, admin_of, resident) -> None:
    admin = admin_of(expired_office)
    with pytest.raises(importing.ExchangeRefused) as refused:
        receive(expired_office, admin, csv_file(f"{HEADER},pendidikan", f"{resident.nik},A,B,8"))
    assert refused.value.code == "no_agreement"
    assert not ExchangeBatch.objects.exists()


def test_admin_of_another_institution_cannot_upload(
    education_office, health_office, admin_of, resident
) -> None:
    with pytest.raises(importing.ExchangeRefused) as refused:
        receive(education_office, admin_of(health_office), csv_file(HEADER))
    assert refused.value.code == "not_member"


def test_apply_resumes_after_an_interruption_without_duplicating_history(
    education_office, admin_of, monkeypatch
) -> None:
    admin = admin_of(education_office)
    people = [resident_create(full_name=f"WARGA {i}") for i in range(5)]
    batch = receive(
        education_office,
        admin,
        csv_file(f"{HEADER},pendidikan", *(f"{p.nik},{p.full_name},1990-05-17,9" for p in people)),
    )
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    importing.batch_confirm(batch=batch, user=admin)
    monkeypatch.setattr(importing, "CHUNK", 2)
    calls = 0
    real_chunk = importing.apply_chunk

    def dies_after_one_chunk(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise SystemExit("worker killed")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(importing, "apply_chunk", dies_after_one_chunk)
    with pytest.raises(SystemExit):
        importing.batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.rows_done) == (UploadStatus.APPLYING, 2)

    monkeypatch.setattr(importing, "apply_chunk", real_chunk)
    importing.batch_apply(batch_id=batch.pk)  # the redelivered task
    importing.batch_apply(batch_id=batch.pk)  # and once more: nothing left to do

    batch.refresh_from_db()
    assert (batch.status, batch.rows_done) == (UploadStatus.APPLIED, 5)
    changes = RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW)
    assert changes.count() == 5
    assert {p.pk for p in people} == set(changes.values_list("record_id", flat=True))


def test_preview_can_be_cancelled_and_is_then_never_applied(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    batch = receive(
        education_office,
        admin,
        csv_file(f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8"),
    )
    importing.batch_validate(batch_id=batch.pk)
    importing.batch_cancel(batch=batch, user=admin)
    with pytest.raises(importing.ExchangeRefused):
        importing.batch_confirm(batch=batch, user=admin)
    importing.batch_apply(batch_id=batch.pk)
    resident.refresh_from_db()
    assert resident.education == Education.SENIOR_SECONDARY


def test_cancelled_file_may_be_uploaded_again_and_then_applies_once(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    upload = (f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8")
    first = receive(education_office, admin, csv_file(*upload))
    importing.batch_validate(batch_id=first.pk)
    importing.batch_cancel(batch=first, user=admin)

    again = run(education_office, admin, csv_file(*upload))
    third = run(education_office, admin, csv_file(*upload))

    assert again.status == UploadStatus.APPLIED
    assert third.status == UploadStatus.REFUSED and f"#{again.pk}" in third.refusal
    resident.refresh_from_db()
    assert resident.education == 8
    assert RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).count() == 1


def test_several_appliers_share_a_batch_and_only_the_last_marks_it_applied(
    education_office, admin_of, monkeypatch
) -> None:
    admin = admin_of(education_office)
    people = [resident_create(full_name=f"WARGA {i}") for i in range(4)]
    batch = receive(
        education_office,
        admin,
        csv_file(f"{HEADER},pendidikan", *(f"{p.nik},{p.full_name},1990-05-17,9" for p in people)),
    )
    importing.batch_validate(batch_id=batch.pk)
    ExchangeBatch.objects.filter(pk=batch.pk).update(
        confirmed_by=admin, confirmed_at=timezone.now()
    )
    monkeypatch.setattr(importing, "CHUNK", 2)
    real_chunk = importing.apply_chunk
    joined = False

    def another_applier_joins(*args, **kwargs):
        # While the first applier works, a second one starts on the same batch.
        nonlocal joined
        taken = real_chunk(*args, **kwargs)
        if not joined:
            joined = True
            importing.batch_apply(batch_id=batch.pk)
        return taken

    monkeypatch.setattr(importing, "apply_chunk", another_applier_joins)
    importing.batch_apply(batch_id=batch.pk)

    batch.refresh_from_db()
    assert (batch.status, batch.rows_done) == (UploadStatus.APPLIED, 4)
    assert RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).count() == 4


def test_error_csv_lists_lines_and_reasons_with_formula_cells_neutralised(
    education_office, admin_of, resident
) -> None:
    batch = receive(
        education_office,
        admin_of(education_office),
        csv_file(
            f"{HEADER},pendidikan",
            f"{resident.nik},SITI UJI,1990-05-17,8",
            '=HYPERLINK("http://evil.example"),X,1990-05-17,8',
        ),
    )
    importing.batch_validate(batch_id=batch.pk)
    rows = importing.batch_error_csv(batch)
    assert rows[0] == ["baris", "nik", "kesalahan"]
    assert len(rows) == 2
    line, nik, reasons = rows[1]
    assert line == "3"
    assert nik.startswith("'=")
    assert reasons


def test_api_rows_with_the_same_idempotency_key_make_one_batch_applied_without_preview(
    health_office, admin_of, resident, django_capture_on_commit_callbacks
) -> None:
    admin = admin_of(health_office)
    rows = [
        {
            "nik": resident.nik,
            "nama_lengkap": "SITI UJI",
            "tanggal_lahir": "1990-05-17",
            "jaminan_kesehatan": "private",
        }
    ]
    with django_capture_on_commit_callbacks(execute=True):
        batch = importing.batch_receive_rows(
            institution=health_office,
            user=admin,
            format=UploadFormat.FIELD_UPDATE,
            rows=rows,
            idempotency_key="kunci-1",
        )
    again = importing.batch_receive_rows(
        institution=health_office,
        user=admin,
        format=UploadFormat.FIELD_UPDATE,
        rows=rows,
        idempotency_key="kunci-1",
    )
    assert again.pk == batch.pk
    batch.refresh_from_db()
    assert batch.status == UploadStatus.APPLIED
    assert row_of(batch, line=1).outcome == RowOutcome.NEW  # the registry had no value
    resident.refresh_from_db()
    assert resident.health_insurance == HealthInsurance.PRIVATE
    assert (
        RecordChange.objects.filter(field="health_insurance", source=ChangeSource.API).count() == 1
    )


def test_api_rows_with_an_unknown_field_are_refused_with_a_code(health_office, admin_of) -> None:
    with pytest.raises(importing.ExchangeRefused) as refused:
        importing.batch_receive_rows(
            institution=health_office,
            user=admin_of(health_office),
            format=UploadFormat.FIELD_UPDATE,
            rows=[{"nik": "1", "nama_lengkap": "A", "tanggal_lahir": "B", "warna": "merah"}],
            idempotency_key="k",
        )
    assert refused.value.code == "unknown_columns"


def test_upload_is_stored_by_its_hash_never_by_its_name(
    education_office, admin_of, resident, settings
) -> None:
    batch = receive(
        education_office,
        admin_of(education_office),
        csv_file(
            f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8", name="../../x.csv"
        ),
    )
    assert batch.status == UploadStatus.RECEIVED
    assert batch.file.name == f"exchange/{education_office.pk}/{batch.sha256}.csv"
    assert batch.original_name == "x.csv"
    assert str(settings.MEDIA_ROOT) in batch.file.path


def test_roster_sex_mismatch_of_a_known_resident_is_a_row_error(company, admin_of, desa) -> None:
    guest = non_permanent_create(desa=desa)
    batch = run(
        company,
        admin_of(company),
        csv_file(
            "nik,nama_lengkap,tanggal_lahir,jenis_kelamin,alamat_asal,kode_wilayah_asal,"
            "alamat_domisili,kode_desa_domisili,tujuan,tanggal_mulai,tanggal_selesai",
            f"{guest.nik},TAMU UJI,{NON_PERMANENT_BIRTH_DATE},P,Jalan Asal 1,3404012001,"
            f"Asrama Blok A,{desa.code},study,2026-01-01,2026-12-31",
        ),
        format=UploadFormat.ROSTER,
    )
    assert "jenis_kelamin" in row_of(batch).errors
    guest.refresh_from_db()
    assert guest.sex == Sex.MALE
    assert not Submission.objects.exists()


def test_unexpected_failure_while_checking_refuses_the_batch_instead_of_hanging(
    education_office, admin_of, resident, monkeypatch
) -> None:
    batch = receive(
        education_office,
        admin_of(education_office),
        csv_file(f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8"),
    )

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(importing, "_judge_chunk", broken)
    with pytest.raises(RuntimeError):
        importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.REFUSED
    assert "error on our side" in batch.refusal


def test_per_field_summary_counts_each_element_separately(
    education_office, admin_of, resident
) -> None:
    other = resident_create(full_name="BUDI UJI", school_enrolment="SD 1")
    batch = receive(
        education_office,
        admin_of(education_office),
        csv_file(
            f"{HEADER},pendidikan,sekolah",
            f"{resident.nik},SITI UJI,1990-05-17,{Education.SENIOR_SECONDARY},SD 2",
            f"{other.nik},BUDI UJI,1990-05-17,{Education.MASTER},SD 1",
        ),
    )
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.field_summary == {
        "education": {"unchanged": 1, "changed": 1},
        "school_enrolment": {"new": 1, "unchanged": 1},
    }
    assert (batch.counts[RowOutcome.NEW], batch.counts[RowOutcome.CHANGED]) == (1, 1)


def test_roster_adopted_directly_when_the_authority_says_adopt(company, admin_of, desa) -> None:
    from citizens.models import Desa
    from stakeholders import catalogue
    from stakeholders.choices import WriteMode
    from stakeholders.models import FieldAuthority

    FieldAuthority.objects.filter(institution=company, field=catalogue.ROSTER).update(
        write=WriteMode.ADOPT
    )
    guest = non_permanent_create(desa=desa)
    moved_to = Desa.objects.exclude(pk=desa.pk).order_by("code").first()
    batch = run(
        company,
        admin_of(company),
        csv_file(
            "nik,nama_lengkap,tanggal_lahir,jenis_kelamin,alamat_asal,kode_wilayah_asal,"
            "alamat_domisili,kode_desa_domisili,tujuan,tanggal_mulai,tanggal_selesai",
            f"{guest.nik},TAMU UJI,{NON_PERMANENT_BIRTH_DATE},L,Jalan Asal 1,3404012001,"
            f"Mess Karyawan,{moved_to.code},kerja,2026-01-01,2027-06-30",
        ),
        format=UploadFormat.ROSTER,
    )
    assert row_of(batch).outcome == RowOutcome.CHANGED, row_of(batch).errors
    guest.refresh_from_db()
    assert guest.domicile_desa == moved_to
    assert (guest.domicile_address, guest.purpose) == ("Mess Karyawan", "work")
    assert guest.expected_end_date == datetime.date(2027, 6, 30)
    assert guest.host_institution == company.name
    assert not Submission.objects.exists()
    refs = set(
        RecordChange.objects.filter(source=ChangeSource.IMPORT_ROW).values_list(
            "source_ref", flat=True
        )
    )
    assert refs == {f"b{batch.pk}:2"}


def test_xlsx_upload_is_applied_like_a_csv(education_office, admin_of, resident) -> None:
    from tests.stakeholders.corpus import workbook

    content = workbook(
        [
            ["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"],
            [resident.nik, "Siti Uji", datetime.datetime(1990, 5, 17), Education.DOCTORATE],
        ]
    )
    batch = run(education_office, admin_of(education_office), SimpleUploadedFile("a.csv", content))
    assert batch.file.name.endswith(".xlsx")
    resident.refresh_from_db()
    assert resident.education == Education.DOCTORATE


def test_agreement_expiring_after_confirmation_stops_the_apply(
    education_office, admin_of, resident
) -> None:
    admin = admin_of(education_office)
    batch = receive(
        education_office,
        admin,
        csv_file(f"{HEADER},pendidikan", f"{resident.nik},SITI UJI,1990-05-17,8"),
    )
    importing.batch_validate(batch_id=batch.pk)
    importing.batch_confirm(batch=batch, user=admin)
    yesterday = datetime.date.today() - datetime.timedelta(days=1)
    education_office.agreements.update(valid_until=yesterday)

    importing.batch_apply(batch_id=batch.pk)

    batch.refresh_from_db()
    resident.refresh_from_db()
    assert batch.status == UploadStatus.REFUSED
    assert resident.education == Education.SENIOR_SECONDARY
