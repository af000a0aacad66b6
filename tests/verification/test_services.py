"""Review services: tiers in order, jurisdiction, four eyes, claims, reject, return and
resubmit, conflict re-confirmation, the audit trail and its append-only tables."""

import datetime
import importlib

import pytest
import time_machine
from django.core import mail
from django.db import DatabaseError, connection, transaction
from django.db.migrations.state import ProjectState
from django.utils import timezone

from citizens import services as registry
from citizens.choices import AuditAction, ChangeSource, Occupation, Role
from citizens.models import AuditEntry, Desa, RecordChange, ResidentLink
from submissions import kinds
from submissions import services as submission_services
from submissions.choices import Channel, Kind, RejectReason, Status, Tier
from submissions.exceptions import InvalidTransition
from submissions.models import Notification, Submission, SubmissionEvent
from tests.factories import UserFactory
from tests.verification.conftest import (
    approve_through,
    biodata_cleaned,
    decide,
    file_and_submit,
    file_draft,
    fresh,
)
from verification import services
from verification.choices import Outcome
from verification.exceptions import (
    AlreadyClaimed,
    ConflictNotConfirmed,
    DecisionIncomplete,
    FourEyes,
    MergeRefused,
    NotYourTier,
)
from verification.models import Claim, Decision, Merge

pytestmark = pytest.mark.django_db


def _death(owner, family) -> Submission:
    """A three-tier item: the owner reports her husband's death."""
    return file_and_submit(
        actor=owner,
        kind=Kind.DEATH,
        cleaned={
            "death_date": datetime.date.today() - datetime.timedelta(days=2),
            "death_place": "PURWOREJO",
            "basis": "Surat kematian",
        },
        subject=kinds.subject_of(family[1]),
    )


def _nothing_decided(submission: Submission, status: Status, tier: str) -> None:
    """The refused decision left the submission as it was: no move, no decision on this
    version, no merge."""
    stored = fresh(submission)
    assert (stored.status, stored.current_tier, stored.version) == (
        status,
        tier,
        submission.version,
    )
    assert not Decision.objects.filter(
        submission=submission, version_seen=submission.version
    ).exists()
    assert not Merge.objects.filter(submission=submission).exists()


def _decisions(submission: Submission) -> list[tuple[str, str]]:
    return list(Decision.objects.filter(submission=submission).values_list("tier", "outcome"))


# Tiers strictly in order


def test_verifier_cannot_decide_when_the_item_waits_at_desa(biodata_submitted, verifier) -> None:
    for outcome in Outcome:
        with pytest.raises(NotYourTier):
            decide(biodata_submitted, verifier, outcome, note="x", reason_code="other")
    assert _decisions(biodata_submitted) == []
    assert fresh(biodata_submitted).status == Status.SUBMITTED
    assert not AuditEntry.objects.filter(reference=biodata_submitted.tracking_code).exists()


def test_kecamatan_officer_cannot_decide_when_the_item_waits_at_desa(
    owner, family, officer_kecamatan
) -> None:
    submission = _death(owner, family)
    with pytest.raises(NotYourTier):
        decide(submission, officer_kecamatan)
    assert _decisions(submission) == []


def test_kecamatan_officer_cannot_decide_when_the_item_waits_at_dukcapil(
    biodata_at_dukcapil, officer_kecamatan
) -> None:
    with pytest.raises(NotYourTier):
        decide(biodata_at_dukcapil, officer_kecamatan)
    assert _decisions(biodata_at_dukcapil) == [(Tier.DESA, Outcome.APPROVE)]
    assert fresh(biodata_at_dukcapil).current_tier == Tier.DUKCAPIL


def test_each_tier_acts_only_in_turn_when_the_route_has_three_tiers(
    owner, family, reviewers, verifier
) -> None:
    submission = _death(owner, family)
    with pytest.raises(NotYourTier):
        decide(submission, verifier)
    submission = decide(submission, reviewers[Tier.DESA])
    assert (submission.status, submission.current_tier) == (Status.IN_REVIEW, Tier.KECAMATAN)
    for early in (reviewers[Tier.DESA], verifier):
        with pytest.raises(NotYourTier):
            decide(submission, early)
    submission = decide(submission, reviewers[Tier.KECAMATAN])
    with pytest.raises(NotYourTier):
        decide(submission, reviewers[Tier.KECAMATAN])
    assert decide(submission, verifier).status == Status.APPROVED
    assert [tier for tier, _outcome in _decisions(submission)] == ["desa", "kecamatan", "dukcapil"]


def test_head_of_dukcapil_decides_at_dukcapil_when_the_item_waits_there(
    biodata_at_dukcapil, head
) -> None:
    assert decide(biodata_at_dukcapil, head).status == Status.APPROVED


def test_people_without_a_review_tier_are_refused_when_they_try_to_decide(
    biodata_submitted, analyst, system_admin
) -> None:
    for user in (UserFactory(role=Role.CITIZEN), analyst, system_admin):
        with pytest.raises(NotYourTier):
            decide(biodata_submitted, user)
        with pytest.raises(NotYourTier):
            services.submission_claim(submission=fresh(biodata_submitted), officer=user)


def test_inactive_verifier_is_refused_when_the_item_waits_at_dukcapil(
    biodata_at_dukcapil,
) -> None:
    inactive = UserFactory(role=Role.VERIFIER, is_active=False)
    with pytest.raises(NotYourTier):
        decide(biodata_at_dukcapil, inactive)


def test_decision_is_refused_when_the_submission_is_a_draft_or_closed(
    owner, family, operator_desa, reviewers
) -> None:
    draft = file_draft(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TEACHER),
        subject=kinds.subject_of(family[0]),
    )
    with pytest.raises(InvalidTransition):
        decide(draft, operator_desa)
    submission = submission_services.submission_submit(submission=draft, actor=owner)
    submission = approve_through(submission, reviewers)
    assert submission.status == Status.APPROVED
    for officer in reviewers.values():
        with pytest.raises(InvalidTransition):
            decide(submission, officer)
    assert Merge.objects.filter(submission=submission).count() == 1


def test_stale_copy_gets_concurrent_decision_when_another_officer_decided_first(
    biodata_submitted, operator_desa, second_operator_desa
) -> None:
    from submissions.exceptions import ConcurrentDecision

    stale = fresh(biodata_submitted)
    decide(biodata_submitted, operator_desa)
    with pytest.raises(ConcurrentDecision):
        services.submission_decide(
            submission=stale,
            officer=second_operator_desa,
            outcome=Outcome.REJECT,
            reason_code=RejectReason.DATA_MISMATCH,
        )
    assert _decisions(biodata_submitted) == [(Tier.DESA, Outcome.APPROVE)]
    assert fresh(biodata_submitted).status == Status.IN_REVIEW


# Jurisdiction


def test_operator_of_another_desa_is_refused_when_deciding_or_claiming(
    biodata_submitted, foreign_operator_desa
) -> None:
    with pytest.raises(NotYourTier):
        decide(biodata_submitted, foreign_operator_desa)
    with pytest.raises(NotYourTier):
        services.submission_claim(submission=biodata_submitted, officer=foreign_operator_desa)
    assert not Claim.objects.exists()
    assert _decisions(biodata_submitted) == []


def test_kecamatan_officer_of_another_kecamatan_is_refused_when_the_item_waits_at_kecamatan(
    owner, family, operator_desa, foreign_officer_kecamatan, officer_kecamatan
) -> None:
    submission = decide(_death(owner, family), operator_desa)
    assert submission.current_tier == Tier.KECAMATAN
    with pytest.raises(NotYourTier):
        decide(submission, foreign_officer_kecamatan)
    with pytest.raises(NotYourTier):
        services.submission_claim(submission=submission, officer=foreign_officer_kecamatan)
    assert decide(submission, officer_kecamatan).current_tier == Tier.DUKCAPIL


def test_destination_village_reviews_an_address_change_when_the_family_moves_to_another_desa(
    owner, family, desa, operator_desa, foreign_operator_desa
) -> None:
    destination = Desa.objects.get(pk=foreign_operator_desa.jurisdiction_desa_id)
    submission = file_and_submit(
        actor=owner,
        kind=Kind.ADDRESS_CHANGE,
        cleaned={
            "desa": destination,
            "rt": "001",
            "rw": "001",
            "address": "Jalan Tujuan 5",
            "whole_family": True,
            "basis": "Surat pengantar",
        },
        subject=kinds.subject_of(family[0]),
    )
    assert submission.desa == destination
    with pytest.raises(NotYourTier):
        decide(submission, operator_desa)
    assert decide(submission, foreign_operator_desa).current_tier == Tier.KECAMATAN


# Four eyes


def test_assisting_operator_is_refused_when_deciding_on_what_they_filed(
    family, operator_desa, second_operator_desa
) -> None:
    submission = file_and_submit(
        actor=operator_desa,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADE),
        subject=kinds.subject_of(family[1]),
        channel=Channel.ASSISTED,
    )
    assert submission.filed_by == operator_desa
    with pytest.raises(FourEyes):
        decide(submission, operator_desa)
    with pytest.raises(FourEyes):
        services.submission_claim(submission=submission, officer=operator_desa)
    assert decide(submission, second_operator_desa).current_tier == Tier.DUKCAPIL


def test_officer_is_refused_when_the_submission_is_their_own(
    family, operator_desa, verifier, second_verifier
) -> None:
    ResidentLink.objects.create(user=verifier, permanent_resident=family[0])
    submission = file_and_submit(
        actor=verifier,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.CIVIL_SERVANT),
        subject=kinds.subject_of(family[0]),
    )
    assert submission.citizen == verifier
    submission = decide(submission, operator_desa)
    with pytest.raises(FourEyes):
        decide(submission, verifier)
    assert decide(submission, second_verifier).status == Status.APPROVED


def test_officer_is_refused_when_the_submission_concerns_their_record_or_family(
    owner, family, operator_desa, verifier, second_verifier
) -> None:
    _me, spouse, child = family
    ResidentLink.objects.create(user=verifier, permanent_resident=spouse)
    about_him = file_and_submit(
        actor=owner,
        kind=Kind.BIODATA_CORRECTION,
        cleaned=biodata_cleaned(occupation=Occupation.TRADE),
        subject=kinds.subject_of(spouse),
    )
    about_his_child = _move_child(owner, child)
    for submission in (about_him, about_his_child):
        submission = approve_through(
            submission,
            {Tier.DESA: operator_desa, Tier.KECAMATAN: _kecamatan_officer(submission)},
            until=Tier.DUKCAPIL,
        )
        with pytest.raises(FourEyes):
            decide(submission, verifier)
        assert decide(submission, second_verifier).status == Status.APPROVED


def _kecamatan_officer(submission: Submission):
    return UserFactory(
        role=Role.OFFICER_KECAMATAN, jurisdiction_kecamatan_id=submission.desa.kecamatan_id
    )


def _move_child(owner, child) -> Submission:
    return file_and_submit(
        actor=owner,
        kind=Kind.MOVE_OUT,
        cleaned={
            "destination_address": "Asrama Putra, Semarang",
            "destination_region_code": "3374",
            "move_date": datetime.date.today(),
            "basis": "Surat pindah",
        },
        subject=kinds.subject_of(child),
    )


def _promote_to_verifier(officer) -> None:
    officer.role = Role.VERIFIER
    officer.jurisdiction_desa = None
    officer.jurisdiction_kecamatan = None
    officer.save()


def test_officer_is_refused_when_they_already_decided_at_another_tier_of_the_submission(
    biodata_at_dukcapil, operator_desa, verifier
) -> None:
    _promote_to_verifier(operator_desa)
    with pytest.raises(FourEyes):
        decide(biodata_at_dukcapil, operator_desa)
    assert decide(biodata_at_dukcapil, verifier).status == Status.APPROVED


def _revise_and_resubmit(owner, family, submission: Submission, occupation: int) -> Submission:
    proposal = kinds.build(
        kinds.SPECS[Kind.BIODATA_CORRECTION],
        user=owner,
        subject=kinds.subject_of(family[0]),
        cleaned=biodata_cleaned(occupation=occupation),
    )
    revised = submission_services.submission_revise(
        submission=fresh(submission), actor=owner, proposal=proposal
    )
    return submission_services.submission_submit(submission=revised, actor=owner)


def test_officer_is_refused_at_a_second_tier_when_a_return_and_resubmit_came_between(
    owner,
    family,
    biodata_submitted,
    operator_desa,
    second_operator_desa,
    verifier,
    second_verifier,
) -> None:
    submission = decide(biodata_submitted, operator_desa)
    submission = decide(submission, verifier, Outcome.RETURN, note="Lampirkan SK asli.")
    submission = _revise_and_resubmit(owner, family, submission, Occupation.LECTURER)
    assert submission.current_tier == Tier.DESA
    # The verifier who returned it now works for the village: not at desa on this submission.
    verifier.role, verifier.jurisdiction_desa = Role.OPERATOR_DESA, submission.desa
    verifier.save()
    with pytest.raises(FourEyes):
        decide(submission, verifier)
    submission = decide(submission, second_operator_desa)
    # The first village operator, promoted meanwhile, may not decide at Dukcapil either.
    _promote_to_verifier(operator_desa)
    with pytest.raises(FourEyes):
        decide(submission, operator_desa)
    assert decide(submission, second_verifier).status == Status.APPROVED


def test_same_officer_decides_again_at_the_same_tier_when_the_submission_comes_back(
    owner, family, biodata_submitted, operator_desa, verifier
) -> None:
    submission = decide(biodata_submitted, operator_desa)
    submission = decide(submission, verifier, Outcome.RETURN, note="Foto buram.")
    submission = _revise_and_resubmit(owner, family, submission, Occupation.LECTURER)
    submission = decide(submission, operator_desa)
    assert decide(submission, verifier).status == Status.APPROVED
    family[0].refresh_from_db()
    assert family[0].occupation == Occupation.LECTURER


# Claims


def test_claim_holds_the_item_for_the_configured_minutes_when_taken(
    biodata_submitted, operator_desa, settings
) -> None:
    settings.REVIEW_CLAIM_MINUTES = 30
    with time_machine.travel(datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC), tick=False):
        claim = services.submission_claim(submission=biodata_submitted, officer=operator_desa)
        assert (claim.officer, claim.tier) == (operator_desa, Tier.DESA)
        assert claim.expires_at == timezone.now() + datetime.timedelta(minutes=30)


def test_another_officers_claim_blocks_claim_and_decision_when_it_has_not_expired(
    biodata_submitted, operator_desa, second_operator_desa
) -> None:
    services.submission_claim(submission=biodata_submitted, officer=second_operator_desa)
    with pytest.raises(AlreadyClaimed) as refused:
        services.submission_claim(submission=biodata_submitted, officer=operator_desa)
    assert second_operator_desa.full_name in str(refused.value.message)
    for outcome in Outcome:
        with pytest.raises(AlreadyClaimed):
            decide(biodata_submitted, operator_desa, outcome, note="x", reason_code="other")
    assert Claim.objects.get().officer == second_operator_desa
    assert _decisions(biodata_submitted) == []
    assert decide(biodata_submitted, second_operator_desa).current_tier == Tier.DUKCAPIL
    assert not Claim.objects.exists()


def test_expired_claim_is_taken_over_when_another_officer_claims_or_decides(
    biodata_submitted, operator_desa, second_operator_desa, settings
) -> None:
    start = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        services.submission_claim(submission=biodata_submitted, officer=second_operator_desa)
    later = start + datetime.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES, seconds=1)
    with time_machine.travel(later, tick=False):
        claim = services.submission_claim(submission=biodata_submitted, officer=operator_desa)
        assert (claim.officer, claim.claimed_at) == (operator_desa, later)
        assert Claim.objects.count() == 1
    with time_machine.travel(later + datetime.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)):
        # The new claim expired too: the first officer may simply decide.
        assert decide(biodata_submitted, second_operator_desa).current_tier == Tier.DUKCAPIL


def test_own_claim_is_extended_when_the_officer_claims_again(
    biodata_submitted, operator_desa, second_operator_desa, settings
) -> None:
    start = datetime.datetime(2026, 5, 4, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False):
        services.submission_claim(submission=biodata_submitted, officer=operator_desa)
    with time_machine.travel(start + datetime.timedelta(minutes=20), tick=False):
        claim = services.submission_claim(submission=biodata_submitted, officer=operator_desa)
        assert claim.expires_at == start + datetime.timedelta(
            minutes=20 + settings.REVIEW_CLAIM_MINUTES
        )
    after_first_expiry = start + datetime.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES + 5)
    with time_machine.travel(after_first_expiry, tick=False), pytest.raises(AlreadyClaimed):
        services.submission_claim(submission=biodata_submitted, officer=second_operator_desa)
    assert Claim.objects.count() == 1


def test_release_gives_the_item_back_when_the_holder_releases_it(
    biodata_submitted, operator_desa, second_operator_desa
) -> None:
    services.submission_claim(submission=biodata_submitted, officer=operator_desa)
    assert (
        services.submission_claim_release(
            submission=biodata_submitted, officer=second_operator_desa
        )
        == 0
    )
    assert Claim.objects.get().officer == operator_desa
    assert (
        services.submission_claim_release(submission=biodata_submitted, officer=operator_desa) == 1
    )
    claim = services.submission_claim(submission=biodata_submitted, officer=second_operator_desa)
    assert claim.officer == second_operator_desa


def test_claim_of_the_previous_tier_does_not_block_when_the_item_moved_on(
    biodata_submitted, operator_desa, verifier
) -> None:
    services.submission_claim(submission=biodata_submitted, officer=operator_desa)
    submission = decide(biodata_submitted, operator_desa)
    assert not Claim.objects.exists()
    claim = services.submission_claim(submission=submission, officer=verifier)
    assert claim.tier == Tier.DUKCAPIL


# Reject


@pytest.mark.parametrize("reason_code", ["", "because", RejectReason.OTHER.upper()])
def test_reject_is_refused_when_the_reason_is_missing_or_unknown(
    biodata_submitted, operator_desa, reason_code
) -> None:
    with pytest.raises(DecisionIncomplete):
        decide(biodata_submitted, operator_desa, Outcome.REJECT, reason_code=reason_code, note="x")
    _nothing_decided(biodata_submitted, Status.SUBMITTED, Tier.DESA)


def test_reject_for_another_reason_is_refused_when_the_note_is_empty(
    biodata_submitted, operator_desa
) -> None:
    with pytest.raises(DecisionIncomplete):
        decide(
            biodata_submitted,
            operator_desa,
            Outcome.REJECT,
            reason_code=RejectReason.OTHER,
            note="   ",
        )
    _nothing_decided(biodata_submitted, Status.SUBMITTED, Tier.DESA)
    submission = decide(
        biodata_submitted,
        operator_desa,
        Outcome.REJECT,
        reason_code=RejectReason.OTHER,
        note="Orangnya sudah pindah.",
    )
    assert (submission.status, submission.decision_code) == (Status.REJECTED, RejectReason.OTHER)


def test_reject_closes_the_submission_and_records_the_reason_when_given(
    owner, biodata_at_dukcapil, verifier
) -> None:
    submission = decide(
        biodata_at_dukcapil,
        verifier,
        Outcome.REJECT,
        reason_code=RejectReason.DOCUMENT_INVALID,
        note="SK tidak terbaca.",
    )
    assert (submission.status, submission.decision_code, submission.decision_reason) == (
        Status.REJECTED,
        RejectReason.DOCUMENT_INVALID,
        "SK tidak terbaca.",
    )
    assert submission.decided_at is not None
    decision = Decision.objects.get(submission=submission, tier=Tier.DUKCAPIL)
    assert (decision.officer, decision.outcome, decision.reason_code, decision.note) == (
        verifier,
        Outcome.REJECT,
        RejectReason.DOCUMENT_INVALID,
        "SK tidak terbaca.",
    )
    audit = AuditEntry.objects.get(reference=submission.tracking_code, action=AuditAction.REJECT)
    assert (audit.actor, audit.tier, audit.detail) == (
        verifier,
        Tier.DUKCAPIL,
        RejectReason.DOCUMENT_INVALID,
    )
    assert audit.nik_index == submission.subject_key
    assert not Merge.objects.filter(submission=submission).exists()
    assert Notification.objects.filter(user=owner, submission=submission).count() == 3
    owner_record = ResidentLink.objects.get(user=owner).permanent_resident
    assert owner_record.occupation == Occupation.FARMER


# Return for revision and resubmission


def test_return_is_refused_when_the_note_is_empty_or_an_element_is_unknown(
    biodata_submitted, operator_desa
) -> None:
    with pytest.raises(DecisionIncomplete):
        decide(biodata_submitted, operator_desa, Outcome.RETURN, note=" ")
    with pytest.raises(DecisionIncomplete):
        decide(
            biodata_submitted,
            operator_desa,
            Outcome.RETURN,
            note="Periksa lagi.",
            fields=["occupation", "nik_of_someone_else"],
        )
    _nothing_decided(biodata_submitted, Status.SUBMITTED, Tier.DESA)


def test_returned_fields_and_note_reach_the_citizen_when_an_officer_returns_it(
    owner, biodata_at_dukcapil, verifier, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submission = decide(
            biodata_at_dukcapil,
            verifier,
            Outcome.RETURN,
            note="Lampirkan SK pengangkatan yang dilegalisir.",
            fields=["occupation"],
        )
    assert submission.status == Status.RETURNED
    assert submission.returned_fields == ["occupation"]
    assert submission.officer_note == "Lampirkan SK pengangkatan yang dilegalisir."
    event = SubmissionEvent.objects.filter(submission=submission).order_by("-pk").first()
    assert (event.to_status, event.tier, event.actor, event.note) == (
        Status.RETURNED,
        Tier.DUKCAPIL,
        verifier,
        "Lampirkan SK pengangkatan yang dilegalisir.",
    )
    assert Notification.objects.filter(user=owner, submission=submission).count() == 3
    assert mail.outbox[-1].to == [owner.email]
    assert "Lampirkan SK pengangkatan yang dilegalisir." in mail.outbox[-1].body
    decision = Decision.objects.get(submission=submission, outcome=Outcome.RETURN)
    assert (decision.tier, decision.fields) == (Tier.DUKCAPIL, ["occupation"])
    audit = AuditEntry.objects.get(reference=submission.tracking_code, action=AuditAction.RETURN)
    assert (audit.actor, audit.tier, audit.detail) == (verifier, Tier.DUKCAPIL, "occupation")


def test_resubmission_starts_again_at_the_first_tier_when_returned_at_the_last(
    owner, family, biodata_at_dukcapil, operator_desa, verifier
) -> None:
    submission = decide(biodata_at_dukcapil, verifier, Outcome.RETURN, note="Salah jabatan.")
    with pytest.raises(InvalidTransition):
        decide(submission, verifier)
    submission = _revise_and_resubmit(owner, family, submission, Occupation.LECTURER)
    assert (submission.status, submission.current_tier) == (Status.SUBMITTED, Tier.DESA)
    assert (submission.returned_fields, submission.officer_note) == ([], "")
    with pytest.raises(NotYourTier):
        decide(submission, verifier)
    submission = approve_through(submission, {Tier.DESA: operator_desa, Tier.DUKCAPIL: verifier})
    assert submission.status == Status.APPROVED
    assert _decisions(submission) == [
        (Tier.DESA, Outcome.APPROVE),
        (Tier.DUKCAPIL, Outcome.RETURN),
        (Tier.DESA, Outcome.APPROVE),
        (Tier.DUKCAPIL, Outcome.APPROVE),
    ]
    family[0].refresh_from_db()
    assert family[0].occupation == Occupation.LECTURER
    change = RecordChange.objects.get(source_ref=submission.tracking_code)
    assert (change.old_value, change.new_value) == (
        str(Occupation.FARMER),
        str(Occupation.LECTURER),
    )


# Conflict re-confirmation


def _officer_changes(resident, **changes) -> None:
    registry.record_update(
        record=resident, changes=changes, source=ChangeSource.OFFICER, reason="Koreksi loket"
    )


def test_final_approval_is_refused_when_the_record_changed_after_the_submission(
    family, biodata_at_dukcapil, verifier
) -> None:
    me = family[0]
    _officer_changes(me, occupation=Occupation.CIVIL_SERVANT)
    with pytest.raises(ConflictNotConfirmed) as refused:
        decide(biodata_at_dukcapil, verifier)
    assert refused.value.fields == ["occupation"]
    assert str(kinds.FIELD_LABELS["occupation"]) in str(refused.value.message)
    with pytest.raises(ConflictNotConfirmed):
        decide(biodata_at_dukcapil, verifier, confirmed_fields=["full_name"])
    _nothing_decided(biodata_at_dukcapil, Status.IN_REVIEW, Tier.DUKCAPIL)
    me.refresh_from_db()
    assert me.occupation == Occupation.CIVIL_SERVANT
    assert not RecordChange.objects.filter(source_ref=biodata_at_dukcapil.tracking_code).exists()
    assert not AuditEntry.objects.filter(
        reference=biodata_at_dukcapil.tracking_code, tier=Tier.DUKCAPIL
    ).exists()


def test_final_approval_merges_when_the_officer_confirms_the_conflicting_element(
    family, biodata_at_dukcapil, verifier
) -> None:
    me = family[0]
    _officer_changes(me, occupation=Occupation.CIVIL_SERVANT)
    submission = decide(biodata_at_dukcapil, verifier, confirmed_fields=["occupation"])
    assert submission.status == Status.APPROVED
    me.refresh_from_db()
    assert me.occupation == Occupation.TEACHER
    change = RecordChange.objects.get(source_ref=submission.tracking_code)
    assert (change.old_value, change.new_value) == (
        str(Occupation.CIVIL_SERVANT),
        str(Occupation.TEACHER),
    )
    decision = Decision.objects.get(submission=submission, tier=Tier.DUKCAPIL)
    assert decision.confirmed_fields == ["occupation"]
    assert Merge.objects.filter(submission=submission).count() == 1


def test_final_approval_needs_no_confirmation_when_another_element_changed(
    family, biodata_at_dukcapil, verifier
) -> None:
    _officer_changes(family[0], birth_place="KUTOARJO")
    assert decide(biodata_at_dukcapil, verifier).status == Status.APPROVED


def test_final_approval_is_refused_when_the_registry_already_holds_the_proposed_value(
    family, biodata_at_dukcapil, verifier
) -> None:
    _officer_changes(family[0], occupation=Occupation.TEACHER)
    with pytest.raises(MergeRefused):
        decide(biodata_at_dukcapil, verifier, confirmed_fields=["occupation"])
    _nothing_decided(biodata_at_dukcapil, Status.IN_REVIEW, Tier.DUKCAPIL)
    submission = decide(
        biodata_at_dukcapil, verifier, Outcome.REJECT, reason_code=RejectReason.DUPLICATE
    )
    assert submission.status == Status.REJECTED


# Audit trail and append-only tables


def test_every_decision_and_the_merge_are_audited_when_the_route_completes(
    biodata_submitted, reviewers
) -> None:
    submission = approve_through(biodata_submitted, reviewers)
    entries = list(
        AuditEntry.objects.filter(reference=submission.tracking_code)
        .order_by("pk")
        .values_list("action", "tier", "actor")
    )
    assert entries == [
        (AuditAction.APPROVE, Tier.DESA, reviewers[Tier.DESA].pk),
        (AuditAction.APPROVE, Tier.DUKCAPIL, reviewers[Tier.DUKCAPIL].pk),
        (AuditAction.MERGE, Tier.DUKCAPIL, reviewers[Tier.DUKCAPIL].pk),
    ]
    assert set(
        AuditEntry.objects.filter(reference=submission.tracking_code).values_list(
            "nik_index", flat=True
        )
    ) == {submission.subject_key}


@pytest.fixture
def audit_rows(biodata_submitted, reviewers) -> tuple[Decision, Merge, AuditEntry]:
    submission = approve_through(biodata_submitted, reviewers)
    return (
        Decision.objects.filter(submission=submission).first(),
        Merge.objects.get(submission=submission),
        AuditEntry.objects.filter(reference=submission.tracking_code).first(),
    )


@pytest.mark.parametrize("index", [0, 1, 2], ids=["decision", "merge", "audit_entry"])
def test_append_only_rows_cannot_be_changed_or_removed_when_the_orm_is_used(
    audit_rows, index
) -> None:
    row = audit_rows[index]
    model = type(row)
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        model.objects.filter(pk=row.pk).update(pk=row.pk)
    with pytest.raises(PermissionError):
        model.objects.filter(pk=row.pk).delete()
    assert model.objects.filter(pk=row.pk).exists()


def _install_append_only_triggers() -> None:
    """The test database is built without migrations: add the triggers the migrations create
    (inside the test's transaction, so they go with it)."""
    guarded = {
        "citizens.migrations.0003_audit_entry": "citizens_auditentry_append_only",
        "verification.migrations.0001_initial": "verification_decision_append_only",
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        present = {name for (name,) in cursor.fetchall()}
    for module, trigger in guarded.items():
        if trigger not in present:
            migration = importlib.import_module(module)
            with connection.schema_editor() as editor:
                migration._guard(ProjectState().apps, editor)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("table", "index"),
    [("verification_decision", 0), ("verification_merge", 1), ("citizens_auditentry", 2)],
)
def test_database_refuses_raw_update_and_delete_when_the_table_is_append_only(
    audit_rows, table, index
) -> None:
    _install_append_only_triggers()
    row = audit_rows[index]
    for statement in (
        f"UPDATE {table} SET id = id WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [row.pk])
    assert type(row).objects.filter(pk=row.pk).exists()
