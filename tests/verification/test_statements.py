"""The F-1.06 change statement: a PDF with the elements before and after, the documents and the
approving officers; rendered once per merge."""

import datetime
import hashlib
import subprocess
from pathlib import Path

import pytest
from django.utils.translation import override

from citizens.choices import FamilyRelation, Occupation, Sex
from citizens.crypto import nik_index
from citizens.models import PermanentResident
from submissions import kinds
from submissions import services as submission_services
from submissions.choices import Kind, Status
from tests.conftest import require_tool
from tests.factories import next_kk, next_nik
from tests.verification.conftest import (
    approve_through,
    arrival_cleaned,
    biodata_cleaned,
    decide,
    file_and_submit,
    fresh,
    upload,
)
from verification.choices import Outcome
from verification.merge import MergeInput
from verification.models import ChangeStatement, Merge
from verification.statements import change_statement_render

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"


def pdf_text(statement: ChangeStatement) -> str:
    """The statement's text as pdftotext reads it, whitespace collapsed (cells may wrap)."""
    pdftotext = require_tool("pdftotext")
    with statement.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-")
    result = subprocess.run(
        [pdftotext, "-enc", "UTF-8", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())


def _indonesian(name: str, text: str) -> tuple[str, str]:
    """An element's label and value as the statement prints them (it is always Indonesian)."""
    with override("id"):
        return str(kinds.FIELD_LABELS[name]), kinds.display_value(name, text)


@pytest.fixture
def merged_biodata(owner, family, reviewers):
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(
            occupation=Occupation.TEACHER,
            birth_place="KUTOARJO",
        ),
        subject=kinds.subject_of(family[0]),
        uploads=[upload("sk-pengangkatan-guru.pdf"), upload("akta-kelahiran.pdf")],
    )
    submission = approve_through(submission, reviewers)
    assert submission.status == Status.APPROVED
    return Merge.objects.get(submission=submission)


def test_statement_lists_code_elements_documents_and_officers_when_rendered(
    merged_biodata, family, reviewers
) -> None:
    for tier, officer in reviewers.items():
        officer.full_name = f"Petugas Tingkat {tier.upper()}"
        officer.save(update_fields=["full_name"])
    statement = change_statement_render(merge_id=merged_biodata.pk)
    with statement.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == statement.sha256
    text = pdf_text(statement)
    submission = merged_biodata.submission
    assert submission.tracking_code in text
    assert "F-1.06" in text
    me = family[0]
    assert me.nik in text  # Dukcapil needs the full NIK to carry the change into SIAK
    assert me.family.kk_number in text
    for item in submission.items.all():
        label, before = _indonesian(item.field, item.value_before)
        _label, after = _indonesian(item.field, item.value_after)
        assert f"{label} {before} {after} {item.basis}" in text, (label, before, after)
    assert "sk-pengangkatan-guru.pdf" in text
    assert "akta-kelahiran.pdf" in text
    assert "Petugas Tingkat DESA" in text
    assert "Petugas Tingkat DUKCAPIL" in text
    assert "Petugas Tingkat KECAMATAN" not in text  # not on this kind's route


def test_statement_is_rendered_once_when_asked_twice(merged_biodata) -> None:
    first = change_statement_render(merge_id=merged_biodata.pk)
    again = change_statement_render(merge_id=merged_biodata.pk)
    assert (again.pk, again.sha256, again.file.name) == (first.pk, first.sha256, first.file.name)
    assert ChangeStatement.objects.filter(merge=merged_biodata).count() == 1
    folder = Path(first.file.path).parent
    assert [path.name for path in folder.iterdir()] == [Path(first.file.name).name]


def test_statement_lists_only_the_final_rounds_officers_when_an_earlier_round_was_returned(
    owner, family, operator_desa, second_operator_desa, verifier
) -> None:
    for officer, name in (
        (operator_desa, "Operator Putaran Pertama"),
        (second_operator_desa, "Operator Putaran Kedua"),
        (verifier, "Verifikator Dinas"),
    ):
        officer.full_name = name
        officer.save(update_fields=["full_name"])
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
    )
    submission = decide(submission, operator_desa)
    submission = decide(submission, verifier, Outcome.RETURN, note="Lampirkan SK.")
    proposal = kinds.build(
        kinds.SPECS[Kind.BIODATA_CORRECTION],
        user=owner,
        subject=kinds.subject_of(family[0]),
        cleaned=biodata_cleaned(occupation=Occupation.LECTURER),
    )
    submission = submission_services.submission_revise(
        submission=fresh(submission), actor=owner, proposal=proposal
    )
    submission = submission_services.submission_submit(submission=submission, actor=owner)
    submission = decide(submission, second_operator_desa)
    submission = decide(submission, verifier)
    text = pdf_text(change_statement_render(merge_id=Merge.objects.get(submission=submission).pk))
    assert second_operator_desa.full_name in text
    assert verifier.full_name in text
    assert operator_desa.full_name not in text
    _label, lecturer = _indonesian("occupation", str(Occupation.LECTURER))
    assert lecturer in text


def test_statement_names_the_new_child_and_family_card_when_a_birth_is_merged(
    owner, family, reviewers
) -> None:
    me = family[0]
    born = datetime.date.today() - datetime.timedelta(days=10)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.BIRTH,
        cleaned={
            "full_name": "BAYI PERNYATAAN",
            "sex": Sex.FEMALE,
            "birth_place": "PURWOREJO",
            "birth_date": born,
            "religion": 1,
            "mother_name": me.full_name,
            "basis": "Surat keterangan lahir",
        },
        subject=kinds.subject_of(me),
    )
    nik = next_nik(birth_date=born, sex=Sex.FEMALE)
    submission = approve_through(submission, reviewers, merge_input=MergeInput(nik=nik))
    text = pdf_text(change_statement_render(merge_id=Merge.objects.get(submission=submission).pk))
    assert nik in text
    assert "BAYI PERNYATAAN" in text
    assert me.family.kk_number in text


def test_statement_names_the_family_card_the_newcomer_joined_when_an_arrival_is_merged(
    citizen, reviewers, desa
) -> None:
    cleaned = arrival_cleaned(desa)
    submission = file_and_submit(actor=citizen, kind=Kind.ARRIVAL, cleaned=cleaned)
    new_kk = next_kk()
    submission = approve_through(
        submission,
        reviewers,
        merge_input=MergeInput(kk_number=new_kk, family_relation=FamilyRelation.HEAD),
    )
    person = PermanentResident.objects.get(nik_index=nik_index(str(cleaned["nik"])))
    text = pdf_text(change_statement_render(merge_id=Merge.objects.get(submission=submission).pk))
    assert person.nik in text
    assert new_kk in text
    label, village = _indonesian("desa", str(desa.pk))
    assert f"{label} - {village}" in text


def test_final_approval_queues_the_statement_when_the_decision_commits(
    biodata_at_dukcapil, verifier, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission = decide(biodata_at_dukcapil, verifier)
    statement = ChangeStatement.objects.get(merge__submission=submission)
    assert submission.tracking_code in pdf_text(statement)


def test_no_statement_is_queued_when_an_approval_only_forwards_the_item(
    biodata_submitted, operator_desa, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        decide(biodata_submitted, operator_desa)
    assert not ChangeStatement.objects.exists()
