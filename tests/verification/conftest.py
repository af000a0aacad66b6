"""Shared set-up for the review tests: officers at every tier (and outside the jurisdiction), a
citizen linked to the family of three, and helpers that file a submission of any kind and move
it through its route with verification.services. Other test modules import the helpers from
here; keep their names and signatures stable."""

import datetime
from collections.abc import Iterable, Mapping

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from citizens.choices import Education, MaritalStatus, Occupation, Religion, Role, Sex, StayPurpose
from citizens.models import Desa, NonPermanentResident, PermanentResident, ResidentLink, User
from submissions import kinds
from submissions import services as submission_services
from submissions.choices import Channel, Kind, Status, Tier
from submissions.models import Submission
from tests.conftest import _with_totp
from tests.factories import UserFactory, next_nik
from verification import services
from verification.choices import Outcome
from verification.merge import MergeInput

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ARRIVAL_BIRTH_DATE = datetime.date(1995, 2, 3)


def upload(name: str = "bukti.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    """An evidence file the vetting accepts (a minimal PDF)."""
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def fresh(submission: Submission) -> Submission:
    """The submission as stored now (services take the caller's copy and check its version)."""
    return Submission.objects.get(pk=submission.pk)


def file_draft(
    *,
    actor: User,
    kind: Kind,
    cleaned: Mapping[str, object],
    subject: kinds.Subject | None = None,
    channel: Channel = Channel.CITIZEN,
    uploads: Iterable[SimpleUploadedFile] = (),
) -> Submission:
    """File a draft the way the portal's form view does: kinds.build, then submission_file."""
    proposal = kinds.build(
        kinds.SPECS[kind], user=actor, subject=subject or kinds.Subject(), cleaned=cleaned
    )
    return submission_services.submission_file(
        actor=actor,
        proposal=proposal,
        channel=channel,
        consent_given=channel == Channel.ASSISTED,
        uploads=list(uploads),
    )


def file_and_submit(
    *,
    actor: User,
    kind: Kind,
    cleaned: Mapping[str, object],
    subject: kinds.Subject | None = None,
    channel: Channel = Channel.CITIZEN,
    uploads: Iterable[SimpleUploadedFile] = (),
) -> Submission:
    """File a draft and send it to the first tier of its route."""
    draft = file_draft(
        actor=actor, kind=kind, cleaned=cleaned, subject=subject, channel=channel, uploads=uploads
    )
    return submission_services.submission_submit(submission=draft, actor=actor)


def decide(
    submission: Submission,
    officer: User,
    outcome: Outcome = Outcome.APPROVE,
    **kwargs: object,
) -> Submission:
    """One decision by `officer` on the stored state of the submission."""
    return services.submission_decide(
        submission=fresh(submission),
        officer=officer,
        outcome=outcome,
        **kwargs,  # type: ignore[arg-type]
    )


def approve_through(
    submission: Submission,
    reviewers: Mapping[str, User],
    *,
    until: str | None = None,
    merge_input: MergeInput | None = None,
    confirmed_fields: Iterable[str] = (),
) -> Submission:
    """Approve at each tier of the submission's route in order, by the reviewer of that tier.
    With `until`, stop when the submission waits at that tier (nothing decided there)."""
    submission = fresh(submission)
    while submission.status in (Status.SUBMITTED, Status.IN_REVIEW):
        tier = submission.current_tier
        if tier == until:
            break
        submission = decide(
            submission,
            reviewers[tier],
            note=f"Sesuai ({tier}).",
            merge_input=merge_input,
            confirmed_fields=list(confirmed_fields),
        )
    return submission


def biodata_cleaned(**changes: object) -> dict[str, object]:
    """A biodata correction proposal: each change with its own document as basis."""
    cleaned: dict[str, object] = {}
    for name, value in changes.items():
        cleaned[name] = value
        cleaned[f"basis_{name}"] = f"Dokumen {name}"
    return cleaned


def arrival_cleaned(desa: Desa, **overrides: object) -> dict[str, object]:
    """A newcomer from Sleman moving into `desa`."""
    return {
        "nik": next_nik(region="340401", birth_date=ARRIVAL_BIRTH_DATE, sex=Sex.MALE),
        "full_name": "DATANG BARU",
        "birth_place": "SLEMAN",
        "birth_date": ARRIVAL_BIRTH_DATE,
        "sex": Sex.MALE,
        "religion": Religion.ISLAM,
        "marital_status": MaritalStatus.SINGLE,
        "education": Education.DIPLOMA_4_S1,
        "occupation": Occupation.PRIVATE_EMPLOYEE,
        "father_name": "AYAH DATANG",
        "mother_name": "IBU DATANG",
        "desa": desa,
        "rt": "004",
        "rw": "005",
        "address": "Jalan Pendatang No. 9",
        "basis": "SKPWNI dari Disdukcapil Sleman",
        **overrides,
    }


def non_permanent_cleaned(desa: Desa, **overrides: object) -> dict[str, object]:
    """A student from Kulon Progo registering a stay of nine months in `desa`."""
    return {
        "nik": next_nik(region="340401", birth_date=datetime.date(2004, 6, 7), sex=Sex.FEMALE),
        "full_name": "MAHASISWI TAMU",
        "birth_place": "WATES",
        "birth_date": datetime.date(2004, 6, 7),
        "sex": Sex.FEMALE,
        "religion": Religion.ISLAM,
        "marital_status": MaritalStatus.SINGLE,
        "education": Education.SENIOR_SECONDARY,
        "occupation": Occupation.STUDENT,
        "father_name": "",
        "mother_name": "IBU MAHASISWI",
        "origin_address": "Jalan Asal 2, Wates",
        "origin_region_code": "3401",
        "purpose": StayPurpose.STUDY,
        "host_institution": "Universitas Muhammadiyah Purworejo",
        "domicile_desa": desa,
        "domicile_rt": "002",
        "domicile_rw": "003",
        "domicile_address": "Kos Melati No. 4",
        "start_date": datetime.date(2026, 8, 1),
        "expected_end_date": datetime.date(2027, 4, 30),
        "basis": "Surat keterangan kuliah",
        **overrides,
    }


def _officer(role: Role, **jurisdiction: object) -> User:
    return _with_totp(UserFactory(role=role, **jurisdiction))


@pytest.fixture
def family(family_of_three) -> tuple[PermanentResident, PermanentResident, PermanentResident]:
    """(me, spouse, child) on one family card in `desa`."""
    return family_of_three


@pytest.fixture
def owner(citizen, family) -> User:
    """A citizen account linked to `family[0]`: it files for the family of three."""
    ResidentLink.objects.create(user=citizen, permanent_resident=family[0])
    return citizen


@pytest.fixture
def reviewers(operator_desa, officer_kecamatan, verifier) -> dict[str, User]:
    """One officer per tier whose jurisdiction covers `desa`."""
    return {Tier.DESA: operator_desa, Tier.KECAMATAN: officer_kecamatan, Tier.DUKCAPIL: verifier}


@pytest.fixture
def second_operator_desa(desa) -> User:
    """Another village operator of `desa`."""
    return _officer(Role.OPERATOR_DESA, jurisdiction_desa=desa)


@pytest.fixture
def second_officer_kecamatan(kecamatan_purworejo) -> User:
    return _officer(Role.OFFICER_KECAMATAN, jurisdiction_kecamatan=kecamatan_purworejo)


@pytest.fixture
def second_verifier(db) -> User:
    return _officer(Role.VERIFIER)


@pytest.fixture
def foreign_operator_desa(desa) -> User:
    """The operator of another village of the same kecamatan."""
    neighbour = Desa.objects.filter(kecamatan=desa.kecamatan).exclude(pk=desa.pk).first()
    return _officer(Role.OPERATOR_DESA, jurisdiction_desa=neighbour)


@pytest.fixture
def foreign_officer_kecamatan(other_desa) -> User:
    """A kecamatan officer of another kecamatan."""
    return _officer(Role.OFFICER_KECAMATAN, jurisdiction_kecamatan=other_desa.kecamatan)


@pytest.fixture
def biodata_submitted(owner, family) -> Submission:
    """The owner's own occupation corrected (farmer to teacher), with one evidence file,
    submitted: waiting at the desa tier."""
    return file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
        uploads=[upload("sk-pengangkatan-guru.pdf")],
    )


@pytest.fixture
def biodata_at_dukcapil(biodata_submitted, operator_desa) -> Submission:
    """The biodata correction approved by the village: waiting at Dukcapil, the last tier."""
    return decide(biodata_submitted, operator_desa, note="Dokumen sesuai.")


@pytest.fixture
def non_permanent_resident(desa) -> NonPermanentResident:
    from tests.factories import non_permanent_create

    return non_permanent_create(desa=desa)
