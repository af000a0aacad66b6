"""Every write to submissions. Views, forms and tasks stay thin and call these."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from citizens import policy
from citizens import selectors as citizen_selectors
from citizens import services as citizen_services
from citizens.choices import AccessPurpose, AuditAction, Registry
from citizens.models import Desa, Family, User
from submissions import events, routing, selectors, transitions
from submissions.choices import OPEN_STATUSES, Channel, Kind, Status
from submissions.evidence import MAX_FILES, evidence_check
from submissions.exceptions import (
    ConcurrentDecision,
    DuplicateOpenSubmission,
    InvalidEvidence,
    InvalidTransition,
    NotAuthorised,
    NothingChanged,
)
from submissions.models import (
    Evidence,
    Notification,
    StatusEmail,
    Submission,
    SubmissionEvent,
    SubmissionItem,
)

if TYPE_CHECKING:
    from submissions.kinds import Proposal

# Crockford's alphabet without look-alikes (no I, L, O, U), easy to read over the phone.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Item:
    field: str
    before: str
    after: str
    basis: str = ""


def tracking_code_new() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"PRJ-{raw[:4]}-{raw[4:]}"


def _changed(items: Sequence[Item]) -> list[Item]:
    return [item for item in items if item.before.strip() != item.after.strip()]


def _open_duplicate(kind: str, subject_key: str, exclude_pk: int | None = None) -> str | None:
    qs = Submission.objects.filter(kind=kind, subject_key=subject_key, status__in=OPEN_STATUSES)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs.values_list("tracking_code", flat=True).first()


@transaction.atomic
def submission_create(
    *,
    kind: Kind,
    filed_by: User,
    citizen: User | None,
    channel: Channel,
    desa: Desa,
    subject_key: str,
    items: Sequence[Item],
    subject_registry: str = "",
    subject_id: int | None = None,
    family: Family | None = None,
    description: str = "",
    whole_family: bool = False,
    consent_given: bool = False,
) -> Submission:
    """Create a draft holding only the elements that really change.

    Refuses a second open submission of the same kind for the same person (DB-enforced too),
    and an assisted submission without the resident's consent.
    """
    changed = _changed(items)
    if not changed and kind != Kind.REPORT:
        raise NothingChanged()
    # The operator's village: where the resident lives (for a move, the village they leave).
    home = family.desa if kind == Kind.ADDRESS_CHANGE and family is not None else desa
    if channel == Channel.ASSISTED and not (
        consent_given and policy.can_file_for_resident(filed_by, home)
    ):
        raise NotAuthorised()
    existing = _open_duplicate(kind, subject_key)
    if existing:
        raise DuplicateOpenSubmission(existing)
    submission = Submission(
        kind=kind,
        filed_by=filed_by,
        citizen=citizen,
        channel=channel,
        desa=desa,
        subject_key=subject_key,
        subject_registry=subject_registry,
        subject_id=subject_id,
        family=family,
        description=description,
        whole_family=whole_family,
        consent_given=consent_given,
    )
    for _attempt in range(5):
        submission.tracking_code = tracking_code_new()
        try:
            with transaction.atomic():
                submission.save()
            break
        except IntegrityError as exc:
            existing = _open_duplicate(kind, subject_key)
            if existing:
                raise DuplicateOpenSubmission(existing) from exc
    else:
        raise IntegrityError("could not allocate a tracking code")
    SubmissionItem.objects.bulk_create(
        SubmissionItem(
            submission=submission,
            field=item.field,
            value_before=item.before,
            value_after=item.after,
            basis=item.basis,
        )
        for item in changed
    )
    events.status_changed(
        submission=submission, from_status="", to_status=Status.DRAFT, actor=filed_by
    )
    return submission


def _require_owner(submission: Submission, actor: User) -> None:
    if actor.pk not in (submission.filed_by_id, submission.citizen_id):
        raise NotAuthorised()


@transaction.atomic
def submission_items_replace(
    *, submission: Submission, actor: User, items: Sequence[Item], description: str | None = None
) -> Submission:
    """Edit a draft or a returned submission: its proposal is replaced by the new one."""
    _require_owner(submission, actor)
    if not transitions.editable_by_citizen(Status(submission.status)):
        raise InvalidTransition()
    changed = _changed(items)
    if not changed and submission.kind != Kind.REPORT:
        raise NothingChanged()
    updated = Submission.objects.filter(pk=submission.pk, version=submission.version).update(
        version=F("version") + 1,
        updated_at=timezone.now(),
        **({"description": description} if description is not None else {}),
    )
    if updated != 1:
        raise ConcurrentDecision()
    submission.items.all().delete()
    SubmissionItem.objects.bulk_create(
        SubmissionItem(
            submission=submission,
            field=item.field,
            value_before=item.before,
            value_after=item.after,
            basis=item.basis,
        )
        for item in changed
    )
    submission.refresh_from_db()
    return submission


@transaction.atomic
def submission_transition(
    *,
    submission: Submission,
    to: Status,
    actor: User | None,
    side: str,
    tier: str = "",
    note: str = "",
    extra: dict[str, object] | None = None,
) -> Submission:
    """The one way a status changes: checks the transition table, updates the row only if it
    is still in the status and version the caller saw (a concurrent decision loses with
    ConcurrentDecision), and writes the timeline event in the same transaction."""
    current = Status(submission.status)
    if not transitions.allowed(current, to, side=side):
        raise InvalidTransition()
    now = timezone.now()
    changes = {"status": to, "version": F("version") + 1, "updated_at": now, **(extra or {})}
    updated = Submission.objects.filter(
        pk=submission.pk, status=current, version=submission.version
    ).update(**changes)
    if updated != 1:
        raise ConcurrentDecision()
    submission.refresh_from_db()
    events.status_changed(
        submission=submission,
        from_status=current,
        to_status=to,
        actor=actor,
        tier=tier or submission.current_tier,
        note=note,
    )
    return submission


def submission_submit(*, submission: Submission, actor: User) -> Submission:
    """Send a draft (or a revised, returned submission) to the first tier of its kind's route.
    The route is copied onto the submission; a resubmission starts again at the first tier."""
    _require_owner(submission, actor)
    if submission.kind != Kind.REPORT and not submission.items.exists():
        raise NothingChanged()
    route = routing.route_for(submission.kind)
    now = timezone.now()
    return submission_transition(
        submission=submission,
        to=Status.SUBMITTED,
        actor=actor,
        side=transitions.CITIZEN,
        tier=route[0],
        extra={
            "route": [str(tier) for tier in route],
            "current_tier": route[0],
            "tier_entered_at": now,
            "submitted_at": submission.submitted_at or now,
            "officer_note": "",
            "returned_fields": [],
        },
    )


def submission_withdraw(*, submission: Submission, actor: User) -> Submission:
    """The citizen (or the operator who filed it) withdraws it until it is decided."""
    _require_owner(submission, actor)
    return submission_transition(
        submission=submission, to=Status.WITHDRAWN, actor=actor, side=transitions.CITIZEN
    )


@transaction.atomic
def evidence_attach(
    *,
    submission: Submission,
    actor: User,
    upload: UploadedFile,  # type: ignore[type-arg]
) -> Evidence:
    """Store one vetted evidence file, outside the static root, under a content-derived name."""
    _require_owner(submission, actor)
    if not transitions.editable_by_citizen(Status(submission.status)):
        raise InvalidTransition()
    checked = evidence_check(upload)
    if submission.evidence.count() >= MAX_FILES:
        raise InvalidEvidence(InvalidEvidence.too_many)
    evidence = Evidence(
        submission=submission,
        original_name=(upload.name or "")[:200],
        content_type=checked.content_type,
        extension=checked.extension,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    evidence.file.save("upload", ContentFile(checked.content), save=False)
    evidence.save()
    return evidence


def status_email_send(*, event_id: int) -> int:
    """Send the e-mail for one timeline event once; returns how many people were written to."""
    event = SubmissionEvent.objects.select_related(
        "submission__citizen", "submission__filed_by"
    ).get(pk=event_id)
    if StatusEmail.objects.filter(event=event).exists():
        return 0
    submission = event.submission
    recipients = sorted(
        {u.email for u in (submission.citizen, submission.filed_by) if u is not None and u.email}
    )
    with override("id"):
        subject = render_to_string(
            "submissions/email/status_subject.txt", {"submission": submission, "event": event}
        ).strip()
        body = render_to_string(
            "submissions/email/status_body.txt", {"submission": submission, "event": event}
        )
    with transaction.atomic():
        _mark, created = StatusEmail.objects.get_or_create(
            event=event, defaults={"recipients": len(recipients)}
        )
        if not created:
            return 0
        if recipients:
            send_mail(subject, body, None, recipients)
    return len(recipients)


def _uploads_check(uploads: Sequence[UploadedFile], *, already: int) -> None:  # type: ignore[type-arg]
    """Vet every file before anything is written, so one bad file leaves nothing behind."""
    if already + len(uploads) > MAX_FILES:
        raise InvalidEvidence(InvalidEvidence.too_many)
    for upload in uploads:
        evidence_check(upload)
        upload.seek(0)


def _evidence_store(
    *,
    submission: Submission,
    actor: User,
    uploads: Sequence[UploadedFile],  # type: ignore[type-arg]
) -> None:
    stored: list[Evidence] = []
    try:
        for upload in uploads:
            stored.append(evidence_attach(submission=submission, actor=actor, upload=upload))
    except Exception:
        # The rows roll back with the transaction; the files on disk must go too.
        for evidence in stored:
            evidence.file.delete(save=False)
        raise


_NOT_YOUR_FAMILY = _(
    "You can only file for members of your own family card (KK). To report wrong data about "
    "someone else, use a report."
)
_ASSISTED_SCOPE = _(
    "In assisted mode you can only file for residents of your own village, and only for "
    "changes that your village reviews."
)


def _filing_authorise(
    *, actor: User, proposal: "Proposal", channel: Channel, consent_given: bool
) -> None:
    """Who may file about whom. Citizens: their own family (same KK as their linked record),
    except reports and their own arrival or non-permanent registration. Village operators
    (assisted): residents of their own desa, with the resident's recorded consent."""
    subject = proposal.subject
    if proposal.kind == Kind.REPORT:
        if channel != Channel.CITIZEN:
            raise NotAuthorised()
        return
    if channel == Channel.ASSISTED:
        if not consent_given:
            raise NotAuthorised(_("Confirm that the resident consented to this submission."))
        places = []
        if subject.resident is not None:
            places.append(selectors.resident_desa(subject.resident))
        if subject.family is not None:
            places.append(subject.family.desa)
        # A move is filed where the family lives now and reviewed first where it is going.
        if proposal.kind != Kind.ADDRESS_CHANGE or not places:
            places.append(proposal.desa)
        if not all(policy.can_file_for_resident(actor, place) for place in places):
            raise NotAuthorised(_ASSISTED_SCOPE)
        return
    if channel != Channel.CITIZEN:
        raise NotAuthorised()
    link = citizen_selectors.resident_link_for_user(actor)
    if proposal.kind in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        if link is None:
            if subject.resident is not None:
                raise NotAuthorised()
            return
        if link.permanent_resident is not None:
            raise NotAuthorised(_("You are already registered as a permanent resident here."))
        if link.resident.nik_index != proposal.subject_key:
            raise NotAuthorised(_("You can only register yourself."))
        return
    if link is None:
        raise NotAuthorised(_("Link your account to your population record first."))
    if subject.resident is None and subject.family is None:
        raise NotAuthorised(_NOT_YOUR_FAMILY)
    if subject.resident is not None and not selectors.may_file_about(
        user=actor, resident=subject.resident, assisted=False
    ):
        raise NotAuthorised(_NOT_YOUR_FAMILY)
    if subject.family is not None and (
        link.permanent_resident is None or subject.family.pk != link.permanent_resident.family_id
    ):
        raise NotAuthorised(_NOT_YOUR_FAMILY)


@transaction.atomic
def submission_file(
    *,
    actor: User,
    proposal: "Proposal",
    channel: Channel,
    consent_given: bool = False,
    uploads: Sequence[UploadedFile] = (),  # type: ignore[type-arg]
) -> Submission:
    """Create a draft from a kind's proposal, with its evidence, after checking who may file
    about whom (_filing_authorise). In assisted mode the resident's linked account, if any,
    becomes the submission's citizen so they see it too. All or nothing: a refused file
    leaves no draft."""
    _filing_authorise(actor=actor, proposal=proposal, channel=channel, consent_given=consent_given)
    _uploads_check(uploads, already=0)
    citizen = (
        actor
        if channel == Channel.CITIZEN
        else selectors.account_for_resident(proposal.subject.resident)
    )
    submission = submission_create(
        kind=proposal.kind,
        filed_by=actor,
        citizen=citizen,
        channel=channel,
        desa=proposal.desa,
        subject_key=proposal.subject_key,
        items=proposal.items,
        subject_registry=proposal.subject_registry,
        subject_id=proposal.subject_id,
        family=proposal.subject.family,
        description=proposal.description,
        whole_family=proposal.whole_family,
        consent_given=consent_given,
    )
    _evidence_store(submission=submission, actor=actor, uploads=uploads)
    return submission


@transaction.atomic
def submission_revise(
    *,
    submission: Submission,
    actor: User,
    proposal: "Proposal",
    uploads: Sequence[UploadedFile] = (),  # type: ignore[type-arg]
) -> Submission:
    """Replace the proposal of a draft or returned submission and add evidence. The filing
    rules apply again (the actor may not be the filer), and a changed destination or
    family scope moves its routing and one-open-per-kind key along."""
    _require_owner(submission, actor)
    if proposal.kind != submission.kind or not transitions.editable_by_citizen(
        Status(submission.status)
    ):
        raise InvalidTransition()
    channel = (
        Channel.ASSISTED
        if submission.channel == Channel.ASSISTED and actor.pk == submission.filed_by_id
        else Channel.CITIZEN
    )
    _filing_authorise(
        actor=actor, proposal=proposal, channel=channel, consent_given=submission.consent_given
    )
    existing = _open_duplicate(submission.kind, proposal.subject_key, exclude_pk=submission.pk)
    if existing:
        raise DuplicateOpenSubmission(existing)
    _uploads_check(uploads, already=submission.evidence.count())
    submission = submission_items_replace(
        submission=submission,
        actor=actor,
        items=proposal.items,
        description=proposal.description if submission.kind == Kind.REPORT else None,
    )
    try:
        with transaction.atomic():
            updated = Submission.objects.filter(
                pk=submission.pk, version=submission.version
            ).update(
                desa=proposal.desa,
                subject_key=proposal.subject_key,
                subject_registry=proposal.subject_registry,
                subject_id=proposal.subject_id,
                family=proposal.subject.family,
                whole_family=proposal.whole_family,
            )
    except IntegrityError as exc:
        raise DuplicateOpenSubmission(
            _open_duplicate(submission.kind, proposal.subject_key, exclude_pk=submission.pk) or ""
        ) from exc
    if updated != 1:
        raise ConcurrentDecision()
    submission.refresh_from_db()
    _evidence_store(submission=submission, actor=actor, uploads=uploads)
    return submission


@transaction.atomic
def evidence_remove(*, submission: Submission, actor: User, evidence: Evidence) -> None:
    """Remove one evidence file while the citizen may still edit; the file goes after commit."""
    _require_owner(submission, actor)
    if evidence.submission_id != submission.pk:
        raise NotAuthorised()
    if not transitions.editable_by_citizen(Status(submission.status)):
        raise InvalidTransition()
    storage, name = evidence.file.storage, evidence.file.name
    evidence.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name))


def notifications_mark_read(*, user: User, ids: Sequence[int]) -> int:
    """Mark these of the user's notifications read; returns how many were unread."""
    return Notification.objects.filter(user=user, pk__in=ids, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def submission_read_log(*, reader: User, submission: Submission, purpose: AccessPurpose) -> None:
    """An officer's read of a submission (the proposal, its evidence) goes on the access log
    of the person or family it concerns, which the citizen sees on their own page, and into
    the audit trail; for a person not yet in the registry, into the audit trail only. A
    citizen's reads of their own submissions are not logged."""
    if not policy.is_officer(reader):
        return
    person = selectors.submission_person(submission)
    if person is None:
        citizen_services.audit_record(
            actor=reader, action=AuditAction.REVIEW_VIEW, reference=submission.tracking_code
        )
        return
    registry, record_id, nik_index = person
    citizen_services.access_log_record(
        actor=reader,
        registry=Registry(registry),
        record_id=record_id,
        purpose=purpose,
        reason=submission.tracking_code,
        nik_index=nik_index,
        reference=submission.tracking_code,
    )
