"""SKTS set-up: non-permanent residents (linked or on an institution's roster), a university
with its admin, and a helper that moves a request through desa and Dukcapil with the real
verification services, running the commit hooks so the letter is rendered (eager Celery)."""

import datetime
import subprocess
from collections.abc import Callable

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from citizens.choices import Role
from citizens.models import Desa, NonPermanentResident, ResidentLink, User
from skts.models import Letter, LetterRequest
from stakeholders.choices import InstitutionKind, RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, ExchangeRow, Institution, InstitutionMember
from submissions.models import Submission
from tests.conftest import require_tool
from tests.factories import UserFactory, non_permanent_create
from tests.stakeholders.conftest import institution_with_agreements
from verification import services as review
from verification.choices import Outcome

HOST_NIK = "3306064107800003"


def stay(**overrides: object) -> dict[str, object]:
    """A stay that began a month ago and ends in eight months."""
    today = timezone.localdate()
    values: dict[str, object] = {
        "start_date": today - datetime.timedelta(days=30),
        "expected_end_date": today + datetime.timedelta(days=240),
        "registration_reference": "F115/3306/2026/000777",
        "kk_number": "3404012001200007",
    }
    values.update(overrides)
    return values


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SKTS_PUBLIC_BASE_URL = "https://portal.example.test"


@pytest.fixture
def holder_account(desa: Desa) -> tuple[User, NonPermanentResident]:
    """A student staying in `desa` whose citizen account is linked to the record."""
    resident = non_permanent_create(desa=desa, full_name="BUNGA SARASWATI", **stay())
    user = UserFactory(role=Role.CITIZEN)
    ResidentLink.objects.create(user=user, non_permanent_resident=resident)
    return user, resident


@pytest.fixture
def university(db) -> Institution:
    return institution_with_agreements(
        name="Universitas Uji Purworejo", kind=InstitutionKind.UNIVERSITY
    )


def make_institution_admin(institution: Institution) -> User:
    user = UserFactory(role=Role.INSTITUTION_ADMIN)
    TOTP.activate(user, generate_totp_secret())
    InstitutionMember.objects.create(
        user=user, institution=institution, invited_by=UserFactory(role=Role.HEAD)
    )
    return user


@pytest.fixture
def university_admin(university: Institution) -> User:
    return make_institution_admin(university)


def rostered(
    institution: Institution, admin: User, desa: Desa, count: int, **overrides: object
) -> list[NonPermanentResident]:
    """`count` residents the institution's applied roster upload registered (host: the
    institution), as stakeholders.importing leaves them."""
    batch = ExchangeBatch.objects.create(
        institution=institution,
        format=UploadFormat.ROSTER,
        status=UploadStatus.APPLIED,
        submitted_by=admin,
    )
    residents = []
    for line in range(2, count + 2):
        resident = non_permanent_create(
            desa=desa,
            full_name=f"MAHASISWA UJI {line:03d}",
            host_institution=institution.name,
            **stay(**overrides),
        )
        ExchangeRow.objects.create(
            batch=batch,
            line=line,
            nik_index=resident.nik_index,
            outcome=RowOutcome.REVIEW,
            applied=True,
        )
        residents.append(resident)
    return residents


@pytest.fixture
def approve(
    operator_desa: User, verifier: User, django_capture_on_commit_callbacks
) -> Callable[[Submission], Letter]:
    """Approve a request at the desa, then at Dukcapil; the letter is rendered on commit."""

    def run(submission: Submission) -> Letter:
        submission = review.submission_decide(
            submission=Submission.objects.get(pk=submission.pk),
            officer=operator_desa,
            outcome=Outcome.APPROVE,
        )
        with django_capture_on_commit_callbacks(execute=True):
            review.submission_decide(
                submission=Submission.objects.get(pk=submission.pk),
                officer=verifier,
                outcome=Outcome.APPROVE,
            )
        return Letter.objects.get(submission=submission)

    return run


def request_of(submission_holder: LetterRequest) -> Submission:
    return submission_holder.submission


def pdf_text(content: bytes, tmp_path) -> str:
    tool = require_tool("pdftotext")
    path = tmp_path / "letter.pdf"
    path.write_bytes(content)
    return subprocess.run(
        [tool, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def stored_pdf(letter: Letter) -> bytes:
    with letter.file.open("rb") as stored:
        return stored.read()
