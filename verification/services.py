"""Every write of the review: claims, decisions at a tier, and the merge at the last tier."""

import datetime
from collections.abc import Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import formats, timezone

from citizens import policy
from citizens import selectors as citizen_selectors
from citizens import services as registry
from citizens.choices import AuditAction, Registry
from citizens.models import User
from submissions import kinds, routing, transitions
from submissions.choices import Kind, RejectReason, Status
from submissions.exceptions import ConcurrentDecision, InvalidTransition
from submissions.models import Submission
from submissions.services import submission_transition
from verification import merge as merging
from verification import signals
from verification.choices import Outcome
from verification.exceptions import (
    AlreadyClaimed,
    DecisionIncomplete,
    FourEyes,
    NotYourTier,
)
from verification.models import Claim, Decision, Merge

_REVIEWABLE = (Status.SUBMITTED, Status.IN_REVIEW)
_AUDIT_ACTIONS = {
    Outcome.APPROVE: AuditAction.APPROVE,
    Outcome.REJECT: AuditAction.REJECT,
    Outcome.RETURN: AuditAction.RETURN,
}


def review_authorise(*, officer: User, submission: Submission) -> None:
    """May this officer decide on this submission now? Its tier must be the officer's and its
    desa in their jurisdiction (so tiers act strictly in order), and four eyes: nobody decides
    on what they filed, assisted or what concerns them, or at two tiers of one submission."""
    if submission.status not in _REVIEWABLE:
        raise InvalidTransition()
    tier = policy.review_tier(officer)
    if tier is None or tier != submission.current_tier:
        raise NotYourTier()
    if not policy.covers_desa(officer, submission.desa):
        raise NotYourTier()
    if officer.pk in (submission.filed_by_id, submission.citizen_id):
        raise FourEyes()
    if _concerns(officer, submission):
        raise FourEyes()
    if (
        Decision.objects.filter(submission=submission, officer=officer)
        .exclude(tier=submission.current_tier)
        .exists()
    ):
        raise FourEyes()


def _concerns(officer: User, submission: Submission) -> bool:
    """The submission is about the officer's own registry record (their account is linked
    to it) or about someone on their own family card, whoever filed it."""
    link = citizen_selectors.resident_link_for_user(officer)
    if link is None:
        return False
    person = link.resident
    if submission.subject_key == person.nik_index:
        return True
    registry_of_person = (
        Registry.PERMANENT if link.permanent_resident_id is not None else Registry.NON_PERMANENT
    )
    if (submission.subject_registry, submission.subject_id) == (registry_of_person, person.pk):
        return True
    own_family = link.permanent_resident.family_id if link.permanent_resident else None
    return own_family is not None and submission.family_id == own_family


def _claim_by_other(submission: Submission, officer: User) -> Claim | None:
    return (
        Claim.objects.filter(submission=submission, expires_at__gt=timezone.now())
        .exclude(officer=officer)
        .select_related("officer")
        .first()
    )


def _already_claimed(claim: Claim) -> AlreadyClaimed:
    name = claim.officer.full_name or claim.officer.email
    until = formats.date_format(timezone.localtime(claim.expires_at), "DATETIME_FORMAT")
    return AlreadyClaimed(name, until)


@transaction.atomic
def submission_claim(*, submission: Submission, officer: User) -> Claim:
    """Take the item for review for REVIEW_CLAIM_MINUTES (or extend one's own claim). An
    unexpired claim of another officer is refused; an expired one is taken over."""
    review_authorise(officer=officer, submission=submission)
    now = timezone.now()
    expires = now + datetime.timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)
    values = {
        "officer": officer,
        "tier": submission.current_tier,
        "claimed_at": now,
        "expires_at": expires,
    }
    # Conditional update: only one's own or an expired claim is replaced, race-free.
    taken = (
        Claim.objects.filter(submission=submission)
        .filter(Q(officer=officer) | Q(expires_at__lte=now))
        .update(**values)
    )
    if not taken:
        try:
            with transaction.atomic():
                return Claim.objects.create(submission=submission, **values)
        except IntegrityError:
            pass
        other = _claim_by_other(submission, officer)
        if other is not None:
            raise _already_claimed(other)
        raise ConcurrentDecision()
    return Claim.objects.get(submission=submission)


def submission_claim_release(*, submission: Submission, officer: User) -> int:
    """Give the item back to the queue before the claim expires."""
    deleted, _detail = Claim.objects.filter(submission=submission, officer=officer).delete()
    return deleted


@transaction.atomic
def submission_decide(
    *,
    submission: Submission,
    officer: User,
    outcome: Outcome,
    note: str = "",
    reason_code: str = "",
    fields: Sequence[str] = (),
    confirmed_fields: Sequence[str] = (),
    merge_input: merging.MergeInput | None = None,
) -> Submission:
    """Decide at the submission's current tier.

    Approve forwards it to the next tier of its route or, at the last one, merges it into
    the registry (merging.merge) in this same transaction. Reject needs a reason from the
    list; return needs a note and may name elements to revise. The status moves through
    submission_transition's conditional update, so of two officers deciding at the same
    moment exactly one wins; the other gets ConcurrentDecision and nothing of theirs is kept.
    Writes the Decision and the audit entry, and releases the claim.
    """
    review_authorise(officer=officer, submission=submission)
    claim = _claim_by_other(submission, officer)
    if claim is not None:
        raise _already_claimed(claim)
    version_seen, tier = submission.version, submission.current_tier
    arrived_at = submission.tier_entered_at
    now = timezone.now()
    merge_result = None
    if outcome == Outcome.APPROVE:
        route = submission.route or [str(t) for t in routing.route_for(submission.kind)]
        following = routing.next_tier(route, tier)
        # At every tier, so that no tier forwards what the registry cannot take.
        merging.integrity_check(submission, data=merge_input if following is None else None)
        if following is not None:
            submission = submission_transition(
                submission=submission,
                to=Status.IN_REVIEW,
                actor=officer,
                side=transitions.OFFICER,
                tier=tier,
                note=note,
                extra={"current_tier": following, "tier_entered_at": now},
            )
        else:
            submission = submission_transition(
                submission=submission,
                to=Status.APPROVED,
                actor=officer,
                side=transitions.OFFICER,
                tier=tier,
                note=note,
                extra={"decided_at": now},
            )
            merge_result = merging.merge(
                submission=submission,
                officer=officer,
                confirmed=confirmed_fields,
                data=merge_input or merging.MergeInput(),
            )
            # In this transaction, so what receivers write (an skts letter and its number from
            # a gap-free sequence) commits or rolls back with the approval itself.
            signals.submission_approved.send(
                sender=Submission, submission=submission, officer=officer
            )
    elif outcome == Outcome.REJECT:
        if reason_code not in RejectReason.values:
            raise DecisionIncomplete(DecisionIncomplete.reason_required)
        if reason_code == RejectReason.OTHER and not note.strip():
            raise DecisionIncomplete(DecisionIncomplete.note_required)
        submission = submission_transition(
            submission=submission,
            to=Status.REJECTED,
            actor=officer,
            side=transitions.OFFICER,
            tier=tier,
            note=note,
            extra={"decided_at": now, "decision_code": reason_code, "decision_reason": note},
        )
    elif outcome == Outcome.RETURN:
        elements = kinds.SPECS[Kind(submission.kind)].elements
        if not note.strip():
            raise DecisionIncomplete(DecisionIncomplete.note_required)
        if any(name not in elements for name in fields):
            raise DecisionIncomplete()
        submission = submission_transition(
            submission=submission,
            to=Status.RETURNED,
            actor=officer,
            side=transitions.OFFICER,
            tier=tier,
            note=note,
            extra={"officer_note": note, "returned_fields": list(fields)},
        )
    else:
        raise DecisionIncomplete()
    try:
        with transaction.atomic():
            Decision.objects.create(
                submission=submission,
                version_seen=version_seen,
                tier=tier,
                officer=officer,
                outcome=outcome,
                reason_code=reason_code if outcome == Outcome.REJECT else "",
                note=note,
                fields=list(fields) if outcome == Outcome.RETURN else [],
                confirmed_fields=list(confirmed_fields) if merge_result else [],
                arrived_at=arrived_at,
                decided_at=now,
            )
    except IntegrityError as exc:
        raise ConcurrentDecision() from exc
    registry.audit_record(
        actor=officer,
        action=_AUDIT_ACTIONS[outcome],
        registry=submission.subject_registry,
        record_id=submission.subject_id,
        nik_index=submission.subject_key if _keyed_by_nik(submission) else "",
        reference=submission.tracking_code,
        tier=tier,
        detail=_audit_detail(outcome, reason_code, fields),
    )
    if merge_result is not None:
        _merged(submission=submission, officer=officer, tier=tier, result=merge_result)
    Claim.objects.filter(submission=submission).delete()
    return submission


def _audit_detail(outcome: str, reason_code: str, fields: Sequence[str]) -> str:
    if outcome == Outcome.REJECT:
        return reason_code
    if outcome == Outcome.RETURN:
        return ", ".join(fields)
    return ""


def _keyed_by_nik(submission: Submission) -> bool:
    # Births and reports are keyed by a family or reporter hash, not a person's NIK.
    return submission.kind not in (Kind.BIRTH, Kind.REPORT)


def _merged(
    *, submission: Submission, officer: User, tier: str, result: merging.MergeResult
) -> Merge:
    """The merge's change event (for the stakeholder feed), its audit entry, and the F-1.06
    statement rendered by a worker once the transaction has committed."""
    from verification.tasks import render_change_statement

    event = Merge.objects.create(
        submission=submission,
        kind=submission.kind,
        registry=result.registry,
        record_id=result.record_id,
        changes=result.changes,
        merged_by=officer,
    )
    registry.audit_record(
        actor=officer,
        action=AuditAction.MERGE,
        registry=result.registry,
        record_id=result.record_id,
        # The person written (a newborn's or newcomer's new record too), so the audit search
        # by NIK finds the merge.
        nik_index=merging.merged_nik_index(result)
        or (submission.subject_key if _keyed_by_nik(submission) else ""),
        reference=submission.tracking_code,
        tier=tier,
        detail=str(result.changes),
    )
    render_change_statement.delay_on_commit(event.pk)
    return event
