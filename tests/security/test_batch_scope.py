"""Purpose limitation for field-update batches (issue #16 item 4): a row whose NIK lies
outside the institution's read scope is judged and applied exactly as a row whose NIK nobody
holds. Otherwise a batch's preview and outcomes would tell an institution, for anybody in
the regency, whether the NIK exists, whether the name and birth date it sent match, and
whether a value it sent equals the registry's ("unchanged" / "older"): an oracle for the
people the lookup already hides."""

import csv
import datetime
import io
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from citizens.choices import Education, MaritalStatus, Role
from citizens.models import PermanentResident, RecordChange, User
from stakeholders import importing
from stakeholders.choices import (
    AgreementKind,
    InstitutionKind,
    ReadScope,
    RowOutcome,
    UploadFormat,
    UploadStatus,
)
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution, InstitutionMember
from stakeholders.policy import Scope
from submissions.models import Submission
from tests.factories import UserFactory, family_create, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements

SCHOOL_AGE_CLAUSE = "Pasal 4 ayat (2): penduduk usia sekolah 5-18 tahun"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')
HEADER = "nik,nama_lengkap,tanggal_lahir,pendidikan"


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    # Workers write reasons in the default language: English keeps the phrases stable.
    settings.LANGUAGE_CODE = "en"


def years_ago(years: int) -> datetime.date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


def unknown_nik(nik: str) -> str:
    """A valid NIK of the same region and birth date that nobody holds."""
    return nik[:-4] + ("9998" if nik[-4:] != "9998" else "9997")


def make_admin(institution: Institution) -> User:
    user = UserFactory(role=Role.INSTITUTION_ADMIN)
    TOTP.activate(user, generate_totp_secret())
    InstitutionMember.objects.create(
        user=user, institution=institution, invited_by=UserFactory(role=Role.HEAD)
    )
    return user


def school_age_office(kind: InstitutionKind = InstitutionKind.EDUCATION_OFFICE) -> Institution:
    return institution_with_agreements(
        name=f"{kind.label} usia sekolah",
        kind=kind,
        scope=Scope(ReadScope.AGE, min_age=5, max_age=18, clause=SCHOOL_AGE_CLAUSE),
    )


@pytest.fixture
def office(db) -> Institution:
    return school_age_office()


@pytest.fixture
def admin(office) -> User:
    return make_admin(office)


@pytest.fixture
def people(db) -> dict[str, PermanentResident]:
    home = family_create()
    return {
        "child": resident_create(
            family=home,
            full_name="ANAK SEKOLAH",
            birth_date=years_ago(10),
            relation=4,
            education=Education.PRIMARY,
        ),
        "adult": resident_create(
            family=home,
            full_name="ORANG DEWASA",
            birth_date=years_ago(50),
            education=Education.SENIOR_SECONDARY,
        ),
    }


def in_scope_row(people) -> dict[str, str]:
    """(a) a child of school age, with a new education level."""
    child = people["child"]
    return {
        "nik": child.nik,
        "nama_lengkap": child.full_name,
        "tanggal_lahir": child.birth_date.isoformat(),
        "pendidikan": str(Education.JUNIOR_SECONDARY),
    }


def adult_row(people, *, nik: str | None = None) -> dict[str, str]:
    """(b) an adult, out of scope: the right name, the right birth date and the value the
    registry already holds. With `nik`, (c) the same row for a NIK nobody holds."""
    adult = people["adult"]
    return {
        "nik": nik or adult.nik,
        "nama_lengkap": adult.full_name,
        "tanggal_lahir": adult.birth_date.isoformat(),
        "pendidikan": str(adult.education),
    }


def rows_abc(people) -> list[dict[str, str]]:
    return [
        in_scope_row(people),
        adult_row(people),
        adult_row(people, nik=unknown_nik(people["adult"].nik)),
    ]


def upload(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    lines = [HEADER] + [",".join(row[name] for name in HEADER.split(",")) for row in rows]
    return SimpleUploadedFile("data.csv", ("\n".join(lines) + "\n").encode())


def previewed(office: Institution, admin: User, rows: list[dict[str, str]]) -> ExchangeBatch:
    batch = importing.batch_receive_file(
        institution=office, user=admin, upload=upload(rows), format=UploadFormat.FIELD_UPDATE
    )
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.PREVIEWED
    return batch


def applied(batch: ExchangeBatch, admin: User) -> ExchangeBatch:
    importing.batch_confirm(batch=batch, user=admin)
    importing.batch_apply(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == UploadStatus.APPLIED
    return batch


def error_csv(client, batch: ExchangeBatch) -> list[list[str]]:
    response = client.get(reverse("stakeholders:batch_errors", args=[batch.pk]))
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def adult_untouched(adult: PermanentResident) -> None:
    version = adult.version
    adult.refresh_from_db()
    assert adult.version == version
    assert adult.education == Education.SENIOR_SECONDARY
    assert not RecordChange.objects.filter(record_id=adult.pk, source_ref__startswith="b").exists()
    assert not Submission.objects.filter(subject_key=adult.nik_index).exists()


def test_out_of_scope_row_is_judged_as_an_unknown_nik_when_an_office_uploads_a_file(
    client, office, admin, people
) -> None:
    batch = previewed(office, admin, rows_abc(people))

    a, b, c = (batch.rows.get(line=line) for line in (2, 3, 4))
    assert (a.outcome, a.errors) == (RowOutcome.CHANGED, "")
    assert b.outcome == c.outcome == RowOutcome.ERROR
    assert b.errors == c.errors
    assert "No resident with this NIK" in b.errors
    assert batch.counts[RowOutcome.ERROR] == 2
    assert batch.counts[RowOutcome.UNCHANGED] == 0
    assert batch.field_summary == {"education": {"changed": 1}}

    client.force_login(admin)
    header, *errors = error_csv(client, batch)
    assert header == ["baris", "nik", "kesalahan"]
    assert [row[0] for row in errors] == ["3", "4"]
    assert [row[1] for row in errors] == [people["adult"].nik, unknown_nik(people["adult"].nik)]
    assert errors[0][2] == errors[1][2]

    batch = applied(batch, admin)
    a, b, c = (batch.rows.get(line=line) for line in (2, 3, 4))
    assert a.outcome == RowOutcome.CHANGED
    assert (b.outcome, b.errors) == (c.outcome, c.errors)
    people["child"].refresh_from_db()
    assert people["child"].education == Education.JUNIOR_SECONDARY
    adult_untouched(people["adult"])


def test_preview_page_is_the_same_when_the_row_names_an_out_of_scope_or_an_unknown_nik(
    client, office, admin, people
) -> None:
    """Two uploads that differ only in one NIK, an adult's or nobody's, preview alike."""
    out_of_scope = previewed(office, admin, [in_scope_row(people), adult_row(people)])
    unknown = previewed(
        office,
        admin,
        [in_scope_row(people), adult_row(people, nik=unknown_nik(people["adult"].nik))],
    )
    client.force_login(admin)

    pages = [
        client.get(reverse("stakeholders:batch_detail", args=[batch.pk]))
        for batch in (out_of_scope, unknown)
    ]

    assert all(page.status_code == 200 for page in pages)
    for shown in ("counts", "summary", "errors"):
        assert pages[0].context[shown] == pages[1].context[shown], shown
    texts = [
        CSRF.sub("", page.content.decode())
        .replace(f"#{batch.pk}", "#N")
        .replace(f"/{batch.pk}/", "/N/")
        for page, batch in zip(pages, (out_of_scope, unknown), strict=True)
    ]
    assert texts[0] == texts[1]
    assert out_of_scope.counts == unknown.counts
    assert out_of_scope.field_summary == unknown.field_summary


def test_api_batch_status_does_not_tell_an_out_of_scope_nik_from_an_unknown_one(
    client, office, admin, people, django_capture_on_commit_callbacks
) -> None:
    key = issue_key(office, admin)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:batches"),
            {"rows": rows_abc(people)},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="scope-1",
            **auth(key),
        )

    assert response.status_code == 202
    status = client.get(reverse("api:batch", args=[response.json()["id"]]), **auth(key)).json()
    assert status["status"] == UploadStatus.APPLIED  # tasks run eagerly in tests
    a, b, c = status["rows"]
    assert (a["line"], a["outcome"], a["errors"]) == (1, RowOutcome.CHANGED, [])
    assert (b["outcome"], b["errors"]) == (c["outcome"], c["errors"])
    assert b["outcome"] == RowOutcome.ERROR
    assert status["counts"][RowOutcome.ERROR] == 2
    assert status["counts"][RowOutcome.UNCHANGED] == 0
    people["child"].refresh_from_db()
    assert people["child"].education == Education.JUNIOR_SECONDARY
    adult_untouched(people["adult"])


def test_mismatched_identity_of_an_out_of_scope_nik_is_not_revealed_when_judged(
    office, admin, people
) -> None:
    """A wrong name or birth date for an adult errs like an unknown NIK, not 'does not
    match the registry', and a new value for them is never written."""
    adult = people["adult"]
    wrong = {
        **adult_row(people),
        "nama_lengkap": "NAMA KELIRU",
        "pendidikan": str(Education.MASTER),
    }
    batch = applied(
        previewed(office, admin, [wrong, {**wrong, "nik": unknown_nik(adult.nik)}]), admin
    )

    b, c = batch.rows.get(line=2), batch.rows.get(line=3)
    assert (b.outcome, b.errors) == (c.outcome, c.errors)
    assert "does not match" not in b.errors
    adult_untouched(adult)


def test_out_of_scope_value_is_not_sent_to_review_when_the_authority_asks_review(
    db, people
) -> None:
    """The religious-affairs office's marital status goes to review: never for an adult
    outside its school-age scope."""
    office = school_age_office(InstitutionKind.RELIGIOUS_AFFAIRS_OFFICE)
    admin = make_admin(office)
    adult = people["adult"]
    divorced = MaritalStatus.DIVORCED_REGISTERED
    row = f"{adult.nik},{adult.full_name},{adult.birth_date.isoformat()},{divorced}"
    batch = importing.batch_receive_file(
        institution=office,
        user=admin,
        upload=SimpleUploadedFile(
            "data.csv", f"nik,nama_lengkap,tanggal_lahir,status_perkawinan\n{row}\n".encode()
        ),
        format=UploadFormat.FIELD_UPDATE,
    )
    importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    batch = applied(batch, admin)

    assert ExchangeRow.objects.get(batch=batch).outcome == RowOutcome.ERROR
    adult_untouched(adult)


def _validation_queries(
    office: Institution, admin: User, rows: list[dict[str, str]]
) -> tuple[int, dict[str, int]]:
    batch = importing.batch_receive_file(
        institution=office, user=admin, upload=upload(rows), format=UploadFormat.FIELD_UPDATE
    )
    with CaptureQueriesContext(connection) as queries:
        importing.batch_validate(batch_id=batch.pk)
    batch.refresh_from_db()
    return len(queries.captured_queries), batch.counts


def test_scope_is_checked_for_the_whole_chunk_at_once_when_a_batch_is_checked(
    office, admin, people
) -> None:
    """The scope is part of the chunk's resident lookup: ten more rows, five children and
    five adults, take no more queries, and the adults are errors like unknown NIKs."""
    home = family_create()
    more = []
    for number in range(10):
        person = resident_create(
            family=home,
            full_name=f"WARGA {number}",
            birth_date=years_ago(8 if number % 2 else 40),
            relation=4,
        )
        more.append(
            {
                "nik": person.nik,
                "nama_lengkap": person.full_name,
                "tanggal_lahir": person.birth_date.isoformat(),
                "pendidikan": str(Education.DIPLOMA_3),
            }
        )

    few, _counts = _validation_queries(office, admin, rows_abc(people))
    many, counts = _validation_queries(office, admin, [*rows_abc(people), *more])

    assert many == few
    assert (counts[RowOutcome.CHANGED], counts[RowOutcome.ERROR]) == (1 + 5, 2 + 5)


def test_row_previewed_in_scope_is_not_applied_when_the_scope_is_withdrawn_before_apply(
    office, admin, people
) -> None:
    batch = previewed(office, admin, [in_scope_row(people)])
    assert batch.rows.get().outcome == RowOutcome.CHANGED
    office.agreements.filter(kind=AgreementKind.PKS).update(read_scope=ReadScope.NONE)

    batch = applied(batch, admin)

    row = batch.rows.get()
    assert row.outcome == RowOutcome.ERROR and "No resident with this NIK" in row.errors
    people["child"].refresh_from_db()
    assert people["child"].education == Education.PRIMARY
