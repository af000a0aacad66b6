"""A real Celery worker (Redis broker) renders the letter queued by the final approval."""

import hashlib
import time

import pytest

from citizens.choices import Role
from citizens.models import ResidentLink
from skts import services
from skts.models import Letter
from tests.factories import UserFactory, non_permanent_create
from tests.skts.conftest import HOST_NIK, stay
from verification.choices import Outcome
from verification.services import submission_decide


@pytest.mark.celery_worker
def test_real_worker_stores_the_letter_pdf_when_dukcapil_approves(celery_worker_app, desa) -> None:
    resident = non_permanent_create(desa=desa, full_name="SURAT LEWAT WORKER", **stay())
    holder = UserFactory(role=Role.CITIZEN)
    ResidentLink.objects.create(user=holder, non_permanent_resident=resident)
    operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    verifier = UserFactory(role=Role.VERIFIER)
    submission = services.letter_request_create(
        actor=holder, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    ).submission
    submission = submission_decide(submission=submission, officer=operator, outcome=Outcome.APPROVE)
    submission_decide(submission=submission, officer=verifier, outcome=Outcome.APPROVE)
    letter = Letter.objects.get(submission=submission)
    deadline = time.monotonic() + 60
    while not letter.sha256 and time.monotonic() < deadline:
        time.sleep(0.2)
        letter.refresh_from_db()
    assert letter.sha256, "the worker did not store the letter within 60 s"
    with letter.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == letter.sha256
