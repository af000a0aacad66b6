"""Files at rest (issue #16, item 6): every stored file is encrypted with the field keys, read
back only through the portal, re-encrypted by key rotation, deleted after its retention
period, never left half-written, and streamed (a 50 MB file never sits whole in memory)."""

import datetime
import errno
import hashlib
import importlib
import io
import os
import re
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone

from citizens import filecrypt
from citizens.choices import AuditAction, Education, Occupation, Role
from citizens.crypto import DecryptionError
from citizens.models import AuditEntry, ResidentLink
from skts import services as skts_services
from skts.models import Letter
from stakeholders import importing
from stakeholders.choices import InstitutionKind, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch, ExchangeRow
from stakeholders.tasks import purge_expired_batch_files
from submissions import kinds
from submissions.choices import Kind, Status, Tier
from submissions.models import Evidence, Submission
from submissions.tasks import purge_expired_evidence
from tests.factories import UserFactory, non_permanent_create
from tests.skts.conftest import HOST_NIK, stay
from tests.stakeholders.conftest import institution_with_agreements
from tests.verification.conftest import approve_through, biodata_cleaned, decide, file_and_submit
from verification import reports
from verification.models import ChangeStatement, Merge
from verification.statements import change_statement_render

# A NIK (16 digits, Central Java's 33) standing alone: not a run inside a hex digest or a token.
NIK_SHAPED = re.compile(rb"(?<![0-9A-Za-z])33\d{14}(?![0-9A-Za-z])")
MiB = 1024 * 1024


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SKTS_PUBLIC_BASE_URL = "https://portal.example.test"


def media_files() -> dict[str, bytes]:
    """Every file under MEDIA_ROOT (temporary ones too) by its path there, as stored."""
    root = Path(settings.MEDIA_ROOT)
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def scan_pdf(nik: str, padding: int = 0) -> bytes:
    """An evidence 'scan' the vetting accepts, carrying the NIK as a KK scan would."""
    return (
        b"%PDF-1.4\n% KK " + nik.encode() + b"\n" + b"% " + b"x" * padding + b"\n"
        b"1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    )


def pdf_upload(content: bytes, name: str = "kk.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _institution_admin(institution) -> object:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from stakeholders.models import InstitutionMember

    user = UserFactory(role=Role.INSTITUTION_ADMIN)
    TOTP.activate(user, generate_totp_secret())
    InstitutionMember.objects.create(
        user=user, institution=institution, invited_by=UserFactory(role=Role.HEAD)
    )
    return user


def run_full_flow(*, family, citizen, operator_desa, officer_kecamatan, verifier, desa, capture):
    """Each writer of files once: a citizen's evidence, approved with its F-1.06 statement;
    an institution's CSV (uploaded, cancelled, uploaded again and applied) and an API batch
    with a row in error;
    an SKTS letter; the weekly report. Returns what the serving checks need."""
    me = family[0]
    ResidentLink.objects.create(user=citizen, permanent_resident=me)
    reviewers = {
        Tier.DESA: operator_desa,
        Tier.KECAMATAN: officer_kecamatan,
        Tier.DUKCAPIL: verifier,
    }
    scan = scan_pdf(me.nik)
    submission = file_and_submit(
        actor=citizen,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(me),
        uploads=[pdf_upload(scan)],
    )
    with capture(execute=True):
        submission = approve_through(submission, reviewers)
    assert submission.status == Status.APPROVED
    statement = change_statement_render(merge_id=Merge.objects.get(submission=submission).pk)

    office = institution_with_agreements(
        name="Dinas Pendidikan Uji", kind=InstitutionKind.EDUCATION_OFFICE
    )
    admin = _institution_admin(office)
    spouse = family[1]
    content = (
        "nik,nama_lengkap,tanggal_lahir,pendidikan\n"
        f"{spouse.nik},{spouse.full_name},{spouse.birth_date:%Y-%m-%d},{Education.DIPLOMA_4_S1}\n"
    ).encode()
    first = importing.batch_receive_file(
        institution=office,
        user=admin,
        upload=SimpleUploadedFile("data.csv", content),
        format=UploadFormat.FIELD_UPDATE,
    )
    importing.batch_validate(batch_id=first.pk)
    importing.batch_cancel(batch=ExchangeBatch.objects.get(pk=first.pk), user=admin)
    again = importing.batch_receive_file(
        institution=office,
        user=admin,
        upload=SimpleUploadedFile("data.csv", content),
        format=UploadFormat.FIELD_UPDATE,
    )
    importing.batch_validate(batch_id=again.pk)
    importing.batch_confirm(batch=ExchangeBatch.objects.get(pk=again.pk), user=admin)
    importing.batch_apply(batch_id=again.pk)
    assert ExchangeBatch.objects.get(pk=again.pk).status == UploadStatus.APPLIED
    api_batch = importing.batch_receive_rows(
        institution=office,
        user=admin,
        format=UploadFormat.FIELD_UPDATE,
        rows=[
            {
                "nik": family[2].nik,
                "nama_lengkap": family[2].full_name,
                "tanggal_lahir": family[2].birth_date.isoformat(),
                "pendidikan": Education.PRIMARY,
            },
            # A NIK typed into a code column: its row's error must not repeat it.
            {
                "nik": me.nik,
                "nama_lengkap": me.full_name,
                "tanggal_lahir": me.birth_date.isoformat(),
                "pendidikan": spouse.nik,
            },
        ],
        idempotency_key="flow-1",
    )
    importing.batch_validate(batch_id=api_batch.pk)  # on commit in production
    errors = ExchangeRow.objects.filter(batch_id=api_batch.pk).values_list("errors", flat=True)
    assert any("pendidikan" in text for text in errors)

    holder_resident = non_permanent_create(desa=desa, full_name="BUNGA SARASWATI", **stay())
    holder = UserFactory(role=Role.CITIZEN)
    ResidentLink.objects.create(user=holder, non_permanent_resident=holder_resident)
    request = skts_services.letter_request_create(
        actor=holder, resident=holder_resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    )
    decide(request.submission, operator_desa)
    with capture(execute=True):
        decide(request.submission, verifier)
    letter = Letter.objects.get(submission=request.submission)

    report = reports.weekly_report_create()
    return {
        "submission": submission,
        "scan": scan,
        "statement": statement,
        "holder": holder,
        "letter": letter,
        "report": report,
    }


@pytest.fixture
def flow(
    family_of_three,
    citizen,
    operator_desa,
    officer_kecamatan,
    verifier,
    desa,
    django_capture_on_commit_callbacks,
):
    return run_full_flow(
        family=family_of_three,
        citizen=citizen,
        operator_desa=operator_desa,
        officer_kecamatan=officer_kecamatan,
        verifier=verifier,
        desa=desa,
        capture=django_capture_on_commit_callbacks,
    )


def _assert_no_nik_at_rest() -> dict[str, bytes]:
    stored = media_files()
    folders = {name.split("/", 1)[0] for name in stored}
    assert {"evidence", "statements", "exchange", "skts", "reports"} <= folders, folders
    assert len([name for name in stored if name.startswith("exchange/")]) == 3  # 2 uploads + API
    leaks = {name: NIK_SHAPED.findall(content) for name, content in stored.items()}
    assert {name: found for name, found in leaks.items() if found} == {}
    assert all(content.startswith(filecrypt.MAGIC) for content in stored.values())
    return stored


@pytest.mark.django_db
def test_no_nik_shaped_number_is_in_any_stored_file_when_the_full_flow_has_run(flow) -> None:
    _assert_no_nik_at_rest()


@pytest.mark.django_db
def test_files_are_served_decrypted_when_an_allowed_user_downloads(
    flow, client, citizen, verifier, head
) -> None:
    submission = flow["submission"]
    evidence = Evidence.objects.get(submission=submission)
    client.force_login(citizen)
    response = client.get(
        reverse("submissions:evidence", args=[submission.tracking_code, evidence.pk])
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == flow["scan"]
    assert int(response["Content-Length"]) == len(flow["scan"])

    client.force_login(verifier)
    response = client.get(reverse("verification:statement", args=[submission.tracking_code]))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == flow["statement"].sha256

    client.force_login(flow["holder"])
    response = client.get(reverse("skts:download", args=[flow["letter"].pk]))
    assert response.status_code == 200
    pdf = b"".join(response.streaming_content)
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == flow["letter"].sha256

    client.force_login(head)
    response = client.get(reverse("verification:report_file", args=[flow["report"].pk, "csv"]))
    assert response.status_code == 200
    with flow["report"].csv_file.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()

    client.force_login(UserFactory(role=Role.CITIZEN))  # someone else: nothing
    response = client.get(
        reverse("submissions:evidence", args=[submission.tracking_code, evidence.pk])
    )
    assert response.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_nik_shaped_number_is_in_the_database_dump_when_the_full_flow_has_run(
    flow,
) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    _assert_no_nik_at_rest()
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    command = [pg_dump, "--data-only", "--no-owner", "-d", db["NAME"]]
    for option, key in (("-h", "HOST"), ("-p", "PORT"), ("-U", "USER")):
        if db.get(key):
            command += [option, str(db[key])]
    dump = subprocess.run(command, env=env, capture_output=True, check=True).stdout
    assert len(dump) > 10_000  # the flow's rows are there
    assert NIK_SHAPED.findall(dump) == []


@pytest.mark.django_db
def test_stored_files_are_re_encrypted_when_the_keys_rotate(settings, flow) -> None:
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    before = media_files()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    with pytest.raises(DecryptionError):  # the files need the old key until rotated
        flow["letter"].file.open("rb")

    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert f"files: {len(before)}" in out.getvalue()
    after = media_files()
    assert after.keys() == before.keys()
    assert all(after[name] != before[name] for name in before)

    settings.FIELD_ENCRYPTION_KEYS = [new_key]  # the old key is gone: every file still reads
    for name in after:
        with default_storage.open(name) as stored:
            stored.read()
    with flow["letter"].file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == flow["letter"].sha256
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert media_files() == after  # nothing left to rotate: a second run rewrites nothing


@pytest.mark.django_db
def test_batch_files_are_deleted_when_30_days_have_passed_since_apply_or_cancel(
    flow, django_capture_on_commit_callbacks
) -> None:
    closed = list(
        ExchangeBatch.objects.filter(status__in=(UploadStatus.APPLIED, UploadStatus.CANCELLED))
    )
    assert len(closed) == 2 and all(batch.closed_at for batch in closed)
    api_batch = ExchangeBatch.objects.get(via_api=True)  # still received: kept
    assert settings.BATCH_FILE_RETENTION_DAYS == 30
    now = timezone.now()
    with time_machine.travel(now + datetime.timedelta(days=29), tick=False):
        assert purge_expired_batch_files.delay().get() == 0
    with (
        time_machine.travel(now + datetime.timedelta(days=31), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert purge_expired_batch_files.delay().get() == 2
        assert purge_expired_batch_files.delay().get() == 0
    for batch in closed:
        batch.refresh_from_db()
        assert batch.file.name == ""
        assert AuditEntry.objects.filter(
            action=AuditAction.FILES_PURGE, reference=f"batch:{batch.pk}"
        ).exists()
    remaining = [name for name in media_files() if name.startswith("exchange/")]
    api_batch.refresh_from_db()
    assert remaining == [api_batch.file.name]
    assert "purge-expired-batch-files" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_evidence_is_deleted_when_its_retention_period_after_the_decision_has_passed(
    flow, client, citizen, django_capture_on_commit_callbacks
) -> None:
    submission = Submission.objects.get(pk=flow["submission"].pk)
    evidence = Evidence.objects.get(submission=submission)
    days = settings.EVIDENCE_RETENTION_DAYS
    assert days == 365
    url = reverse("submissions:evidence", args=[submission.tracking_code, evidence.pk])
    with time_machine.travel(submission.decided_at + datetime.timedelta(days=days - 1)):
        assert purge_expired_evidence.delay().get() == 0
    with (
        time_machine.travel(submission.decided_at + datetime.timedelta(days=days + 1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert purge_expired_evidence.delay().get() == 1
    evidence.refresh_from_db()
    assert evidence.file.name == "" and evidence.sha256  # the row and its hash stay
    assert not any(name.startswith("evidence/") for name in media_files())
    entry = AuditEntry.objects.get(action=AuditAction.FILES_PURGE)
    assert entry.reference == submission.tracking_code and entry.actor is None
    assert ChangeStatement.objects.filter(merge__submission=submission).exists()
    client.force_login(citizen)
    assert client.get(url).status_code == 404
    page = client.get(reverse("submissions:detail", args=[submission.tracking_code]))
    assert "dihapus setelah masa simpannya berakhir" in page.content.decode()
    assert "purge-expired-evidence" in settings.CELERY_BEAT_SCHEDULE


class _DiskFull:
    """A file object that fills the disk after `room` bytes."""

    def __init__(self, real, room: int) -> None:
        self._real, self._room = real, room

    def write(self, data) -> int:
        if len(data) > self._room:
            self._real.write(bytes(data[: self._room]))
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return self._real.write(data)

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._real.close()


@pytest.mark.django_db
def test_no_partial_file_is_left_when_the_disk_fills_during_a_write(
    monkeypatch, family_of_three, citizen
) -> None:
    me = family_of_three[0]
    ResidentLink.objects.create(user=citizen, permanent_resident=me)
    real_fdopen = os.fdopen

    def fdopen(fd, mode="r", *args, **kwargs):
        real = real_fdopen(fd, mode, *args, **kwargs)
        return _DiskFull(real, 100_000) if "w" in mode else real

    monkeypatch.setattr(os, "fdopen", fdopen)
    with pytest.raises(OSError) as failure:
        file_and_submit(
            actor=citizen,
            kind=Kind.BIODATA_CORRECTION,
            cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
            subject=kinds.subject_of(me),
            uploads=[pdf_upload(scan_pdf(me.nik, padding=400_000))],
        )
    assert failure.value.errno == errno.ENOSPC
    assert media_files() == {}
    assert not Evidence.objects.exists() and not Submission.objects.exists()


class _Generated(io.RawIOBase):
    """`size` bytes of CSV lines with a NIK, made as they are read: never whole in memory."""

    LINE = b"3306064107800003,SITI UJI,1990-05-17\n"

    def __init__(self, size: int) -> None:
        self._size, self._at = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self._size - self._at)
        start = self._at % len(self.LINE)
        repeated = self.LINE * (count // len(self.LINE) + 2)
        buffer[:count] = repeated[start : start + count]
        self._at += count
        return count


def _digest(stream, block: int = 64 * 1024) -> str:
    digest = hashlib.sha256()
    while data := stream.read(block):
        digest.update(data)
    return digest.hexdigest()


def test_a_50_mb_file_is_stored_and_served_in_bounded_memory_when_streamed() -> None:
    size = 50 * MiB
    expected = _digest(_Generated(size))
    tracemalloc.start()
    try:
        name = default_storage.save("exchange/big.csv", File(_Generated(size), name="big.csv"))
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        response = FileResponse(default_storage.open(name), as_attachment=True)
        digest = hashlib.sha256()
        for part in response.streaming_content:
            digest.update(part)
        response.file_to_stream.close()
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert digest.hexdigest() == expected
    assert int(response["Content-Length"]) == size
    assert write_peak < 4 * MiB and read_peak < 4 * MiB, (write_peak, read_peak)
    path = Path(default_storage.path(name))
    with path.open("rb") as stored:
        while data := stored.read(MiB):
            assert NIK_SHAPED.search(data) is None


def test_a_tampered_file_is_refused_when_chunks_are_reordered_dropped_or_cut() -> None:
    content = os.urandom(3 * filecrypt.CHUNK_SIZE + 10)
    name = default_storage.save("reports/t.bin", File(io.BytesIO(content), name="t.bin"))
    path = Path(default_storage.path(name))
    stored = path.read_bytes()
    header, frames, at = stored[: filecrypt.HEADER_BYTES], [], filecrypt.HEADER_BYTES
    while at < len(stored):
        length = int.from_bytes(stored[at : at + 4], "big")
        frames.append(stored[at : at + 4 + length])
        at += 4 + length
    assert len(frames) == 4
    other = default_storage.save("reports/o.bin", File(io.BytesIO(content), name="o.bin"))
    foreign = Path(default_storage.path(other)).read_bytes()[filecrypt.HEADER_BYTES :]
    for forged in (
        header + frames[1] + frames[0] + frames[2] + frames[3],  # reordered
        header + frames[0] + frames[2] + frames[3],  # one dropped
        header + frames[0] + frames[1] + frames[2],  # the last one dropped
        stored[:-7],  # cut off
        header + foreign,  # another file's chunks
        content,  # plaintext put in its place
    ):
        path.write_bytes(forged)
        with pytest.raises(DecryptionError), default_storage.open(name) as opened:
            opened.read()
    path.write_bytes(stored)
    with default_storage.open(name) as opened:
        assert opened.read() == content


@pytest.mark.django_db
def test_plaintext_files_are_encrypted_once_when_the_command_runs() -> None:
    root = Path(settings.MEDIA_ROOT)
    legacy = root / "exchange" / "1" / "old.csv"
    legacy.parent.mkdir(parents=True)
    content = b"nik,nama_lengkap\n3306064107800003,SITI UJI\n"
    legacy.write_bytes(content)
    out = io.StringIO()
    call_command("encrypt_stored_files", stdout=out)
    assert "Encrypted 1 files" in out.getvalue()
    encrypted = legacy.read_bytes()
    assert NIK_SHAPED.search(encrypted) is None
    with default_storage.open("exchange/1/old.csv") as stored:
        assert stored.read() == content
    call_command("encrypt_stored_files", stdout=(out := io.StringIO()))
    assert "Encrypted 0 files" in out.getvalue()
    assert legacy.read_bytes() == encrypted


def test_migration_encrypts_plaintext_files_and_its_reverse_restores_them() -> None:
    migration = importlib.import_module("citizens.migrations.0019_encrypt_stored_files")
    path = Path(settings.MEDIA_ROOT) / "evidence" / "7" / "scan.pdf"
    path.parent.mkdir(parents=True)
    content = scan_pdf("3306064107800003")
    path.write_bytes(content)
    migration.encrypt(None, None)
    assert NIK_SHAPED.search(path.read_bytes()) is None
    migration.decrypt(None, None)
    assert path.read_bytes() == content
