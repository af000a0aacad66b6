"""Submission services: transition table, concurrency, events, mail, one-open rule, evidence."""

import datetime
import hashlib
import io
import itertools
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import override
from PIL import Image

from citizens import crypto
from citizens.choices import FamilyRelation, Occupation, Religion, Role, Sex
from citizens.models import ResidentLink
from submissions import kinds, services, transitions
from submissions.choices import Channel, Kind, Status, Tier
from submissions.exceptions import (
    ConcurrentDecision,
    DuplicateOpenSubmission,
    InvalidEvidence,
    InvalidTransition,
    NotAuthorised,
)
from submissions.models import Evidence, Notification, StatusEmail, Submission, SubmissionEvent
from submissions.services import Item
from tests.factories import UserFactory, family_create, next_nik, resident_create
from verification.choices import Outcome
from verification.services import submission_decide

pytestmark = pytest.mark.django_db

SIDES = (transitions.CITIZEN, transitions.OFFICER)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buffer, fmt)
    return buffer.getvalue()


def _upload(name: str, content: bytes, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def resident(desa):
    return resident_create(family=family_create(desa=desa), full_name="SITI WARGA")


@pytest.fixture
def owner(citizen, resident):
    ResidentLink.objects.create(user=citizen, permanent_resident=resident)
    return citizen


def _draft(owner, resident, *, kind: Kind = Kind.BIODATA_CORRECTION) -> Submission:
    return services.submission_create(
        kind=kind,
        filed_by=owner,
        citizen=owner,
        channel=Channel.CITIZEN,
        desa=resident.family.desa,
        subject_key=resident.nik_index,
        subject_registry="permanent",
        subject_id=resident.pk,
        family=resident.family,
        items=[
            Item(field="occupation", before=str(Occupation.FARMER), after="65", basis="SK guru")
        ],
    )


def _force_status(submission: Submission, status: Status) -> Submission:
    """Test set-up only: put a row in a status without going through the table."""
    Submission.objects.filter(pk=submission.pk).update(status=status)
    submission.refresh_from_db()
    return submission


@pytest.mark.parametrize(
    ("current", "target", "side"), list(itertools.product(Status, Status, SIDES))
)
def test_transition_follows_the_table_when_any_move_is_tried(
    owner, resident, operator_desa, current, target, side
) -> None:
    submission = _force_status(_draft(owner, resident), current)
    actor = owner if side == transitions.CITIZEN else operator_desa
    events_before = submission.events.count()
    if transitions.TRANSITIONS.get((current, target)) == side:
        changed = services.submission_transition(
            submission=submission, to=target, actor=actor, side=side
        )
        assert changed.status == target
        event = submission.events.order_by("-pk").first()
        assert (event.from_status, event.to_status, event.actor) == (current, target, actor)
    else:
        with pytest.raises(InvalidTransition):
            services.submission_transition(submission=submission, to=target, actor=actor, side=side)
        submission.refresh_from_db()
        assert submission.status == current
        assert submission.events.count() == events_before


def test_table_has_no_move_out_of_a_closed_status_when_inspected() -> None:
    closed = {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}
    assert not [move for move in transitions.TRANSITIONS if move[0] in closed]


def _return(submission: Submission, officer, note: str) -> Submission:
    """An officer allowed at the submission's tier returns it, through the review service."""
    return submission_decide(
        submission=submission, officer=officer, outcome=Outcome.RETURN, note=note
    )


def test_stale_copy_gets_concurrent_decision_when_another_officer_decided_first(
    owner, resident, operator_desa, desa
) -> None:
    submission = services.submission_submit(submission=_draft(owner, resident), actor=owner)
    stale = Submission.objects.get(pk=submission.pk)
    submission_decide(submission=submission, officer=operator_desa, outcome=Outcome.APPROVE)
    colleague = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    with pytest.raises(ConcurrentDecision):
        _return(stale, colleague, "Foto buram")
    submission.refresh_from_db()
    assert (submission.status, submission.current_tier) == (Status.IN_REVIEW, Tier.DUKCAPIL)
    assert submission.officer_note == ""


def test_stale_copy_gets_concurrent_decision_when_the_version_moved_in_the_same_status(
    owner, resident
) -> None:
    submission = _draft(owner, resident)
    stale = Submission.objects.get(pk=submission.pk)
    services.submission_items_replace(
        submission=submission,
        actor=owner,
        items=[Item(field="religion", before=str(Religion.ISLAM), after="2", basis="surat")],
    )
    with pytest.raises(ConcurrentDecision):
        services.submission_submit(submission=stale, actor=owner)
    assert Submission.objects.get(pk=submission.pk).status == Status.DRAFT


def test_every_change_writes_an_event_when_the_submission_goes_round_the_loop(
    owner, resident, operator_desa
) -> None:
    submission = _draft(owner, resident)
    submission = services.submission_submit(submission=submission, actor=owner)
    submission = _return(submission, operator_desa, "Lampirkan ijazah")
    submission = services.submission_submit(submission=submission, actor=owner)
    services.submission_withdraw(submission=submission, actor=owner)
    moves = list(
        SubmissionEvent.objects.filter(submission=submission)
        .order_by("pk")
        .values_list("from_status", "to_status", "tier", "note")
    )
    assert moves == [
        ("", Status.DRAFT, "", ""),
        (Status.DRAFT, Status.SUBMITTED, Tier.DESA, ""),
        (Status.SUBMITTED, Status.RETURNED, Tier.DESA, "Lampirkan ijazah"),
        (Status.RETURNED, Status.SUBMITTED, Tier.DESA, ""),
        (Status.SUBMITTED, Status.WITHDRAWN, Tier.DESA, ""),
    ]


def test_event_rows_cannot_be_changed_when_written(owner, resident) -> None:
    event = _draft(owner, resident).events.get()
    with pytest.raises(PermissionError):
        event.save()
    with pytest.raises(PermissionError):
        SubmissionEvent.objects.filter(pk=event.pk).update(note="x")


def test_citizen_is_notified_when_an_officer_returns_the_submission(
    owner, resident, operator_desa
) -> None:
    submission = services.submission_submit(submission=_draft(owner, resident), actor=owner)
    _return(submission, operator_desa, "Kurang KK")
    messages = list(Notification.objects.filter(user=owner).values_list("message", flat=True))
    assert len(messages) == 2  # submitted, returned (no notice for one's own new draft)
    assert all(submission.tracking_code in message for message in messages)
    assert not Notification.objects.filter(user=operator_desa).exists()


def test_one_email_is_sent_per_event_when_tasks_run_and_rerun(
    owner, resident, operator_desa, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission = _draft(owner, resident)
    with django_capture_on_commit_callbacks(execute=True):
        submission = services.submission_submit(submission=submission, actor=owner)
    with django_capture_on_commit_callbacks(execute=True):
        _return(submission, operator_desa, "Foto KTP buram")
    events = list(SubmissionEvent.objects.filter(submission=submission).order_by("pk"))
    assert len(mail.outbox) == len(events) == 3
    assert all(message.to == [owner.email] for message in mail.outbox)
    assert "Foto KTP buram" in mail.outbox[-1].body
    assert StatusEmail.objects.count() == 3
    assert services.status_email_send(event_id=events[-1].pk) == 0
    assert len(mail.outbox) == 3


def test_status_email_names_the_event_status_when_sent_after_a_later_change(
    owner, resident
) -> None:
    submission = _draft(owner, resident)
    draft_event = submission.events.get()
    services.submission_submit(submission=submission, actor=owner)
    services.status_email_send(event_id=draft_event.pk)
    (message,) = mail.outbox
    with override("id"):  # e-mails are written in Indonesian
        assert message.subject.endswith(str(Status.DRAFT.label))
        assert str(Status.SUBMITTED.label) not in message.body


def test_status_email_is_sent_once_when_called_twice_for_the_same_event(owner, resident) -> None:
    event = _draft(owner, resident).events.get()
    assert services.status_email_send(event_id=event.pk) == 1
    assert services.status_email_send(event_id=event.pk) == 0
    assert len(mail.outbox) == 1


def test_second_open_submission_is_refused_when_one_of_the_same_kind_is_open(
    owner, resident
) -> None:
    first = _draft(owner, resident)
    with pytest.raises(DuplicateOpenSubmission) as refused:
        _draft(owner, resident)
    assert refused.value.existing_code == first.tracking_code
    assert first.tracking_code in str(refused.value.message)
    assert Submission.objects.count() == 1


def test_database_refuses_a_second_open_submission_when_the_service_is_bypassed(
    owner, resident
) -> None:
    first = _draft(owner, resident)
    with pytest.raises(IntegrityError), transaction.atomic():
        Submission.objects.create(
            tracking_code="PRJ-0000-0000",
            kind=first.kind,
            channel=Channel.CITIZEN,
            filed_by=owner,
            subject_key=first.subject_key,
            desa=first.desa,
        )


def test_new_submission_is_allowed_when_the_previous_one_was_withdrawn(owner, resident) -> None:
    first = _draft(owner, resident)
    services.submission_withdraw(submission=first, actor=owner)
    second = _draft(owner, resident)
    assert second.tracking_code != first.tracking_code
    assert _draft(owner, resident, kind=Kind.DEATH).kind == Kind.DEATH


def test_tracking_code_uses_the_readable_alphabet_when_generated() -> None:
    for _ in range(50):
        code = services.tracking_code_new()
        assert len(code) == 13 and code.startswith("PRJ-") and code[8] == "-"
        assert not set(code[4:].replace("-", "")) & set("ILOU")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STATIC_ROOT = tmp_path / "static"
    return Path(settings.MEDIA_ROOT)


def test_executable_is_refused_when_renamed_to_pdf(media, owner, resident) -> None:
    submission = _draft(owner, resident)
    with pytest.raises(InvalidEvidence):
        services.evidence_attach(
            submission=submission,
            actor=owner,
            upload=_upload("surat.pdf", b"MZ\x90\x00\x03" + b"\x00" * 200 + b"%%EOF"),
        )
    assert not Evidence.objects.exists()


def test_file_is_refused_when_larger_than_5_mb(media, owner, resident) -> None:
    submission = _draft(owner, resident)
    big = PDF[:-6] + b"0" * (6 * 1024 * 1024) + b"%%EOF\n"
    with pytest.raises(InvalidEvidence) as refused:
        services.evidence_attach(submission=submission, actor=owner, upload=_upload("a.pdf", big))
    assert "5 MB" in str(refused.value.message)


def test_sixth_file_is_refused_when_five_are_attached(media, owner, resident) -> None:
    submission = _draft(owner, resident)
    for number in range(5):
        services.evidence_attach(
            submission=submission,
            actor=owner,
            upload=_upload(f"{number}.pdf", PDF + str(number).encode()),
        )
    with pytest.raises(InvalidEvidence):
        services.evidence_attach(submission=submission, actor=owner, upload=_upload("6.pdf", PDF))
    assert submission.evidence.count() == 5


def test_truncated_png_is_refused_when_attached(media, owner, resident) -> None:
    png = _image("PNG")
    with pytest.raises(InvalidEvidence):
        services.evidence_attach(
            submission=_draft(owner, resident),
            actor=owner,
            upload=_upload("foto.png", png[: len(png) // 2], "image/png"),
        )


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [
        (PDF, "application/pdf", ".pdf"),
        (_image("JPEG"), "image/jpeg", ".jpg"),
        (_image("PNG"), "image/png", ".png"),
    ],
    ids=["pdf", "jpeg", "png"],
)
def test_valid_file_is_stored_privately_under_its_hash_when_attached(
    media, owner, resident, settings, content, content_type, extension
) -> None:
    submission = _draft(owner, resident)
    evidence = services.evidence_attach(
        submission=submission, actor=owner, upload=_upload("../../x.pdf", content, "text/html")
    )
    digest = hashlib.sha256(content).hexdigest()
    assert evidence.content_type == content_type
    assert evidence.file.name == f"evidence/{submission.pk}/{digest}{extension}"
    stored = Path(evidence.file.path).resolve()
    assert stored.is_relative_to(media.resolve())
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT).resolve())
    assert content[:32] not in stored.read_bytes()  # encrypted at rest (citizens.filecrypt)
    with evidence.file.open("rb") as plain:
        assert plain.read() == content
    assert "x.pdf" not in evidence.file.name and ".." not in evidence.file.name
    assert evidence.original_name == "x.pdf"  # Django keeps the base name only (encrypted)


def test_evidence_cannot_be_added_when_the_submission_was_submitted(media, owner, resident) -> None:
    submission = services.submission_submit(submission=_draft(owner, resident), actor=owner)
    with pytest.raises(InvalidTransition):
        services.evidence_attach(submission=submission, actor=owner, upload=_upload("a.pdf", PDF))


def test_someone_else_cannot_attach_evidence_when_not_the_owner(media, owner, resident) -> None:
    with pytest.raises(NotAuthorised):
        services.evidence_attach(
            submission=_draft(owner, resident),
            actor=UserFactory(),
            upload=_upload("a.pdf", PDF),
        )


def _biodata_proposal(user, resident, **changes) -> kinds.Proposal:
    spec = kinds.SPECS[Kind.BIODATA_CORRECTION]
    subject = kinds.subject_of(resident)
    cleaned = {**kinds.current_values(spec, subject), **changes}
    cleaned.update({f"basis_{name}": "Ijazah" for name in changes})
    return kinds.build(spec, user=user, subject=subject, cleaned=cleaned)


def test_nothing_is_left_behind_when_one_of_several_files_is_refused(
    media, owner, resident
) -> None:
    proposal = _biodata_proposal(owner, resident, occupation=Occupation.TEACHER)
    with pytest.raises(InvalidEvidence):
        services.submission_file(
            actor=owner,
            proposal=proposal,
            channel=Channel.CITIZEN,
            uploads=[_upload("a.pdf", PDF), _upload("b.pdf", b"MZ" + b"\x00" * 64)],
        )
    assert not Submission.objects.exists()
    assert not Evidence.objects.exists()
    assert not list(media.rglob("*.pdf"))


def test_citizen_cannot_file_when_the_person_is_outside_their_family(owner, other_desa) -> None:
    stranger = resident_create(family=family_create(desa=other_desa), full_name="ORANG LAIN")
    proposal = _biodata_proposal(owner, stranger, occupation=Occupation.TEACHER)
    with pytest.raises(NotAuthorised):
        services.submission_file(actor=owner, proposal=proposal, channel=Channel.CITIZEN)
    assert not Submission.objects.exists()


def test_unlinked_citizen_cannot_file_when_the_kind_concerns_a_family(resident) -> None:
    proposal = _biodata_proposal(UserFactory(), resident, occupation=Occupation.TEACHER)
    with pytest.raises(NotAuthorised):
        services.submission_file(actor=UserFactory(), proposal=proposal, channel=Channel.CITIZEN)


def test_citizen_may_file_when_the_person_is_on_their_family_card(owner, resident) -> None:
    spouse = resident_create(
        family=resident.family,
        full_name="BUDI SUAMI",
        sex=Sex.MALE,
        relation=FamilyRelation.HUSBAND,
        birth_date=datetime.date(1987, 1, 2),
    )
    proposal = _biodata_proposal(owner, spouse, occupation=Occupation.TEACHER)
    submission = services.submission_file(actor=owner, proposal=proposal, channel=Channel.CITIZEN)
    assert (submission.subject_id, submission.citizen, submission.filed_by) == (
        spouse.pk,
        owner,
        owner,
    )


def test_operator_cannot_file_when_consent_is_missing_or_the_resident_lives_elsewhere(
    operator_desa, resident, other_desa
) -> None:
    proposal = _biodata_proposal(operator_desa, resident, occupation=Occupation.TEACHER)
    with pytest.raises(NotAuthorised):
        services.submission_file(
            actor=operator_desa, proposal=proposal, channel=Channel.ASSISTED, consent_given=False
        )
    elsewhere = resident_create(family=family_create(desa=other_desa))
    proposal = _biodata_proposal(operator_desa, elsewhere, occupation=Occupation.TEACHER)
    with pytest.raises(NotAuthorised):
        services.submission_file(
            actor=operator_desa, proposal=proposal, channel=Channel.ASSISTED, consent_given=True
        )
    assert not Submission.objects.exists()


def test_citizen_cannot_file_in_assisted_mode_when_not_a_village_operator(owner, resident) -> None:
    proposal = _biodata_proposal(owner, resident, occupation=Occupation.TEACHER)
    with pytest.raises(NotAuthorised):
        services.submission_file(
            actor=owner, proposal=proposal, channel=Channel.ASSISTED, consent_given=True
        )


def test_linked_resident_cannot_register_someone_else_when_filing_a_non_permanent_stay(
    owner, desa
) -> None:
    spec = kinds.SPECS[Kind.NON_PERMANENT]
    birth_date = datetime.date(2001, 2, 3)
    cleaned = {
        "nik": next_nik(region="340401", birth_date=birth_date, sex=Sex.MALE),
        "full_name": "TAMU",
        "birth_place": "SLEMAN",
        "birth_date": birth_date,
        "sex": Sex.MALE,
        "religion": 1,
        "marital_status": 1,
        "education": 5,
        "occupation": 3,
        "origin_address": "Jl. Kaliurang",
        "origin_region_code": "3404",
        "purpose": "study",
        "domicile_desa": desa,
        "domicile_rt": "001",
        "domicile_rw": "001",
        "domicile_address": "Kos Melati",
        "start_date": datetime.date(2026, 1, 1),
        "expected_end_date": datetime.date(2026, 6, 1),
        "basis": "Surat kampus",
    }
    proposal = kinds.build(spec, user=owner, subject=kinds.Subject(), cleaned=cleaned)
    with pytest.raises(NotAuthorised):
        services.submission_file(actor=owner, proposal=proposal, channel=Channel.CITIZEN)
    assert crypto.nik_index(cleaned["nik"]) == proposal.subject_key


def _move_proposal(user, resident, to_desa) -> kinds.Proposal:
    spec = kinds.SPECS[Kind.ADDRESS_CHANGE]
    subject = kinds.subject_of(resident)
    cleaned = {**kinds.current_values(spec, subject)}
    cleaned.update(desa=to_desa, rt="004", rw="002", address="Jalan Baru No. 5")
    cleaned.update({f"basis_{name}": "Surat pindah" for name in ("desa", "rt", "rw", "address")})
    return kinds.build(spec, user=user, subject=subject, cleaned=cleaned)


def test_operator_files_a_move_to_another_village_when_the_family_lives_in_theirs(
    operator_desa, resident, other_desa
) -> None:
    proposal = _move_proposal(operator_desa, resident, other_desa)
    submission = services.submission_file(
        actor=operator_desa, proposal=proposal, channel=Channel.ASSISTED, consent_given=True
    )
    # Reviewed first by the village the family moves to, so never by the filing operator.
    assert (submission.kind, submission.desa, submission.filed_by) == (
        Kind.ADDRESS_CHANGE,
        other_desa,
        operator_desa,
    )


def test_operator_cannot_file_a_move_of_a_family_living_in_another_village(
    resident, other_desa
) -> None:
    destination_operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=other_desa)
    proposal = _move_proposal(destination_operator, resident, other_desa)
    with pytest.raises(NotAuthorised):
        services.submission_file(
            actor=destination_operator,
            proposal=proposal,
            channel=Channel.ASSISTED,
            consent_given=True,
        )
    assert not Submission.objects.exists()
