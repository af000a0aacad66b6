import hashlib
import subprocess
import time

import pytest
from cryptography.fernet import Fernet

from citizens.choices import Role
from citizens.models import PermanentResident
from citizens.tasks import rotate_encryption_keys
from submissions import services as submission_services
from submissions.choices import Channel, Kind, Status
from submissions.services import Item
from tests.conftest import require_tool
from tests.factories import UserFactory, family_create, resident_create
from verification.choices import Outcome
from verification.models import ChangeStatement
from verification.services import submission_decide


@pytest.mark.celery_worker
def test_real_worker_rotates_keys_when_the_task_is_queued(celery_worker_app, settings) -> None:
    old = settings.FIELD_ENCRYPTION_KEYS[0]
    resident = resident_create(full_name="ROTASI LEWAT WORKER")
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old]
    result = rotate_encryption_keys.delay()
    counts = result.get(timeout=60)
    assert counts["citizens.PermanentResident"] == 1
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert PermanentResident.objects.get(pk=resident.pk).full_name == "ROTASI LEWAT WORKER"


@pytest.mark.celery_worker
def test_real_worker_stores_the_f106_statement_when_the_final_tier_approves(
    celery_worker_app, settings, tmp_path, desa
) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    citizen = UserFactory(role=Role.CITIZEN)
    operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    verifier = UserFactory(role=Role.VERIFIER, full_name="VERIFIKATOR LEWAT WORKER")
    resident = resident_create(family=family_create(desa=desa), full_name="PDF LEWAT WORKER")
    draft = submission_services.submission_create(
        kind=Kind.BIODATA_CORRECTION,
        filed_by=citizen,
        citizen=citizen,
        channel=Channel.CITIZEN,
        desa=desa,
        subject_key=resident.nik_index,
        subject_registry="permanent",
        subject_id=resident.pk,
        family=resident.family,
        items=[Item(field="birth_place", before="PURWOREJO", after="KEBUMEN", basis="Akta")],
    )
    submission = submission_services.submission_submit(submission=draft, actor=citizen)
    submission = submission_decide(submission=submission, officer=operator, outcome=Outcome.APPROVE)
    submission = submission_decide(submission=submission, officer=verifier, outcome=Outcome.APPROVE)
    assert submission.status == Status.APPROVED
    # The render was queued on commit to the worker: wait for the row it stores.
    deadline = time.monotonic() + 60
    statement = None
    while statement is None and time.monotonic() < deadline:
        statement = ChangeStatement.objects.filter(merge__submission=submission).first()
        if statement is None:
            time.sleep(0.2)
    assert statement is not None, "the worker did not store the F-1.06 statement within 60 s"
    with statement.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == statement.sha256
    pdftotext = require_tool("pdftotext")
    text = subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()
    assert submission.tracking_code in text
    assert "KEBUMEN" in text
    assert "VERIFIKATOR LEWAT WORKER" in text
