"""Request -> desa -> Dukcapil -> letter PDF -> public verification page, for a resident
asking for themself and for an institution asking for a batch of 50."""

import hashlib
import io
import zipfile

import pytest
from django.urls import reverse

from skts import services
from skts.exceptions import NotYourResident
from skts.models import Letter, LetterSequence
from submissions.choices import Kind, Status, Tier
from submissions.models import Submission
from tests.skts.conftest import HOST_NIK, rostered, stored_pdf
from verification.choices import Outcome
from verification.exceptions import FourEyes, NotYourTier
from verification.services import submission_decide

pytestmark = pytest.mark.django_db


def test_holder_gets_a_verifiable_pdf_when_desa_and_dukcapil_approve(
    client, holder_account, approve
) -> None:
    user, resident = holder_account
    client.force_login(user)
    response = client.post(
        reverse("skts:mine"), {"host_name": "SITI PENJAMIN", "host_nik": HOST_NIK}
    )
    assert response.status_code == 302
    submission = Submission.objects.get(kind=Kind.SKTS, subject_id=resident.pk)
    assert (submission.status, submission.current_tier) == (Status.SUBMITTED, Tier.DESA)
    assert submission.route == ["desa", "dukcapil"]

    letter = approve(submission)

    assert Submission.objects.get(pk=submission.pk).status == Status.APPROVED
    content = stored_pdf(letter)
    assert content.startswith(b"%PDF-")
    assert hashlib.sha256(content).hexdigest() == letter.sha256
    assert letter.number == f"474.4/00001/SKTS/{letter.year}"
    page = client.get(reverse("skts:verify", args=[letter.token]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Valid" in text or "Berlaku" in text
    assert letter.number in text and letter.sha256 in text
    assert "Bu***" in text and resident.nik not in text and "Asrama" not in text
    download = client.get(reverse("skts:download", args=[letter.pk]))
    assert b"".join(download.streaming_content) == content


def test_institution_batch_of_50_gets_50_numbered_letters_when_approved(
    client, desa, university, university_admin, approve
) -> None:
    residents = rostered(university, university_admin, desa, 50)
    client.force_login(university_admin)
    response = client.post(
        reverse("skts:institution"),
        {
            "residents": [r.pk for r in residents],
            "host_name": "KEPALA ASRAMA UJI",
            "host_nik": HOST_NIK,
        },
    )
    assert response.status_code == 302
    submissions = list(Submission.objects.filter(kind=Kind.SKTS).order_by("pk"))
    assert len(submissions) == 50
    assert {s.filed_by_id for s in submissions} == {university_admin.pk}

    letters = [approve(submission) for submission in submissions]

    assert sorted(letter.sequence for letter in letters) == list(range(1, 51))
    assert LetterSequence.objects.get(year=letters[0].year).last == 50
    assert all(letter.institution_id == university.pk and letter.sha256 for letter in letters)
    page = client.get(reverse("skts:verify", args=[letters[-1].token]))
    assert letters[-1].number in page.content.decode()
    archive = client.post(
        reverse("skts:institution_download"), {"letters": [letter.pk for letter in letters]}
    )
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as zipped:
        names = zipped.namelist()
        assert len(names) == 50
        assert all(zipped.read(name).startswith(b"%PDF-") for name in names)


def test_request_is_refused_when_the_actor_is_neither_holder_nor_institution_admin(
    holder_account, operator_desa
) -> None:
    _user, resident = holder_account
    with pytest.raises(NotYourResident):
        services.letter_request_create(
            actor=operator_desa, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
        )
    assert not Submission.objects.filter(kind=Kind.SKTS).exists()


def test_review_rules_apply_when_a_letter_request_is_decided(
    holder_account, verifier, operator_desa
) -> None:
    user, resident = holder_account
    letter_request = services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    )
    submission = letter_request.submission
    with pytest.raises(NotYourTier):  # Dukcapil cannot act before the desa
        submission_decide(submission=submission, officer=verifier, outcome=Outcome.APPROVE)
    submission = submission_decide(
        submission=submission, officer=operator_desa, outcome=Outcome.APPROVE
    )
    operator_desa.role = "verifier"
    operator_desa.jurisdiction_desa = None
    operator_desa.save()
    with pytest.raises(FourEyes):  # nobody decides at two tiers of one submission
        submission_decide(
            submission=Submission.objects.get(pk=submission.pk),
            officer=operator_desa,
            outcome=Outcome.APPROVE,
        )
    assert not Letter.objects.exists()


def test_no_letter_is_issued_when_dukcapil_rejects(holder_account, operator_desa, verifier) -> None:
    user, resident = holder_account
    submission = services.letter_request_create(
        actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik=HOST_NIK
    ).submission
    submission = submission_decide(
        submission=submission, officer=operator_desa, outcome=Outcome.APPROVE
    )
    submission_decide(
        submission=submission,
        officer=verifier,
        outcome=Outcome.REJECT,
        reason_code="data_mismatch",
    )
    assert not Letter.objects.exists()
    assert not LetterSequence.objects.filter(last__gt=0).exists()
