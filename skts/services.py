"""Every write of SKTS: requests (through the review's submission services), issuing a
letter on final approval, rendering, revocation, reminders and ends."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import override

from citizens import crypto
from citizens import services as registry_services
from citizens.choices import AccessPurpose, AuditAction, LifeStatus, Registry
from citizens.models import NonPermanentResident, User
from citizens.nik import validate_nik
from skts import policy, selectors
from skts.choices import LetterStatus
from skts.exceptions import (
    CannotRevoke,
    InvalidHost,
    LetterRefused,
    MoveRequired,
    NoCurrentStay,
    NotYourResident,
)
from skts.models import Letter, LetterRequest, LetterSequence
from stakeholders.models import Institution, InstitutionMember
from submissions import selectors as submission_selectors
from submissions import services as review
from submissions.choices import Channel, Kind
from submissions.exceptions import SubmissionError
from submissions.models import Submission


def _one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def validity_for(
    *, start_date: datetime.date, expected_end_date: datetime.date, today: datetime.date
) -> tuple[datetime.date, datetime.date]:
    """For a current stay (start <= today <= end): a letter runs from today for
    SKTS_VALIDITY_DAYS, never past the record's expected end and never more than a year."""
    valid_from = max(today, start_date)
    valid_until = min(
        valid_from + datetime.timedelta(days=settings.SKTS_VALIDITY_DAYS),
        _one_year_after(today),
        expected_end_date,
    )
    return valid_from, max(valid_until, valid_from)


def stay_passes_a_year(resident: NonPermanentResident, *, today: datetime.date) -> bool:
    """A stay planned or lasting beyond a year calls for a move, not another letter."""
    year_end = _one_year_after(resident.start_date)
    return resident.expected_end_date > year_end or today >= year_end


def _require_current(resident: NonPermanentResident, *, today: datetime.date) -> None:
    if (
        resident.closed_at is not None
        or resident.life_status != LifeStatus.ALIVE
        or resident.expected_end_date < today
        or resident.start_date > today
    ):
        raise NoCurrentStay()


def _host_checked(host_name: str, host_nik: str) -> tuple[str, str]:
    name = " ".join(host_name.split())
    if not name or len(name) > 150:
        raise InvalidHost()
    try:
        nik = validate_nik(host_nik)
    except ValidationError as exc:
        raise InvalidHost() from exc
    return name, nik


@transaction.atomic
def letter_request_create(
    *,
    actor: User,
    resident: NonPermanentResident,
    host_name: str,
    host_nik: str,
    institution: Institution | None = None,
) -> LetterRequest:
    """Request a letter for a non-permanent resident: by the resident (linked account) or by
    an admin of the institution whose roster holds them. Needs a current stay; a request
    while a letter is in force renews it, refused once the stay passes a year (a move is
    due). Files a submission of kind skts (route: desa, then Dukcapil) and submits it."""
    today = timezone.localdate()
    if institution is None:
        holder = selectors.linked_non_permanent(actor)
        if holder is None or holder.pk != resident.pk:
            raise NotYourResident()
        channel = Channel.CITIZEN
    else:
        if selectors.institution_of(actor) != institution or (
            not selectors.institution_residents(institution).filter(pk=resident.pk).exists()
        ):
            raise NotYourResident()
        channel = Channel.INSTITUTION_PORTAL
    _require_current(resident, today=today)
    name, nik = _host_checked(host_name, host_nik)
    renews = selectors.active_letter(resident)
    if renews is not None and stay_passes_a_year(resident, today=today):
        raise MoveRequired()
    _from, until = validity_for(
        start_date=resident.start_date, expected_end_date=resident.expected_end_date, today=today
    )
    basis = "Permohonan SKTS" + (f" oleh {institution.name}" if institution else "")
    submission = review.submission_create(
        kind=Kind.SKTS,
        filed_by=actor,
        citizen=submission_selectors.account_for_resident(resident),
        channel=channel,
        desa=resident.domicile_desa,
        subject_key=resident.nik_index,
        subject_registry=Registry.NON_PERMANENT,
        subject_id=resident.pk,
        items=[
            review.Item("skts_valid_until", "", until.isoformat(), basis=basis),
            review.Item("skts_host_name", "", name, basis=basis),
            review.Item("skts_host_nik", "", nik, basis=basis),
        ],
        description=basis,
    )
    review.submission_submit(submission=submission, actor=actor)
    return LetterRequest.objects.create(
        submission=submission,
        resident=resident,
        institution=institution,
        requested_by=actor,
        host_name=name,
        host_nik=nik,
        host_nik_index=crypto.nik_index(nik),
        renews=renews,
    )


@dataclass
class BatchResult:
    created: list[LetterRequest] = field(default_factory=list)
    refused: list[tuple[NonPermanentResident, str]] = field(default_factory=list)


def letter_requests_create_many(
    *,
    actor: User,
    institution: Institution,
    resident_ids: Sequence[int],
    host_name: str,
    host_nik: str,
) -> BatchResult:
    """An institution admin requests letters for many of its residents at once. The host is
    checked first (a bad one changes nothing); then each resident is requested on its own,
    and those refused (e.g. an open request already) are reported with the reason."""
    if selectors.institution_of(actor) != institution:
        raise NotYourResident()
    _host_checked(host_name, host_nik)
    residents = list(selectors.institution_residents(institution).filter(pk__in=list(resident_ids)))
    if len(residents) != len(set(resident_ids)):
        raise NotYourResident()
    result = BatchResult()
    for resident in residents:
        try:
            with transaction.atomic():
                result.created.append(
                    letter_request_create(
                        actor=actor,
                        resident=resident,
                        host_name=host_name,
                        host_nik=host_nik,
                        institution=institution,
                    )
                )
        except SubmissionError as exc:  # SktsError, or an open request already (duplicate)
            result.refused.append((resident, str(exc.message)))
    return result


def _number_next(year: int) -> int:
    """The next number of the year. The counter row is locked until the caller's transaction
    ends, so numbers are unique, and a rollback gives the number back (no gaps)."""
    LetterSequence.objects.bulk_create([LetterSequence(year=year, last=0)], ignore_conflicts=True)
    sequence = LetterSequence.objects.select_for_update().get(year=year)
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return sequence.last


def letter_issue(*, submission: Submission, officer: User) -> Letter:
    """Issue the letter of an approved skts submission, inside the approval's transaction:
    its validity (never past the record's end), its number, its verification token; a renewal
    supersedes the resident's earlier letter. Idempotent: one letter per submission. The PDF
    is rendered by a worker after commit. Refuses (rolling the approval back) when the stay
    has ended since the request."""
    existing = Letter.objects.filter(submission=submission).first()
    if existing is not None:
        return existing
    request = LetterRequest.objects.select_related("resident").filter(submission=submission).get()
    resident = NonPermanentResident.objects.get(pk=request.resident_id)
    today = timezone.localdate()
    try:
        _require_current(resident, today=today)
    except NoCurrentStay as exc:
        raise LetterRefused() from exc
    valid_from, valid_until = validity_for(
        start_date=resident.start_date, expected_end_date=resident.expected_end_date, today=today
    )
    with transaction.atomic():
        sequence = _number_next(today.year)
        letter = Letter.objects.create(
            submission=submission,
            request=request,
            resident=resident,
            institution=request.institution or selectors.institution_for_resident(resident),
            number=settings.SKTS_NUMBER_FORMAT.format(seq=sequence, year=today.year),
            year=today.year,
            sequence=sequence,
            token=secrets.token_urlsafe(32),
            valid_from=valid_from,
            valid_until=valid_until,
            issued_by=officer,
        )
        Letter.objects.filter(resident=resident, status=LetterStatus.ISSUED).exclude(
            pk=letter.pk
        ).update(status=LetterStatus.SUPERSEDED, superseded_by=letter)
    from skts.tasks import render_letter

    render_letter.delay_on_commit(letter.pk)
    return letter


def verification_url(letter: Letter) -> str:
    return f"{settings.SKTS_PUBLIC_BASE_URL.rstrip('/')}/skts/verify/{letter.token}/"


def letter_store_pdf(*, letter: Letter, pdf: bytes) -> bool:
    """Store a rendered PDF and its SHA-256 once: a second render (a redelivered task) keeps
    the first and removes its own file. True if this call stored it."""
    digest = hashlib.sha256(pdf).hexdigest()
    letter.sha256 = digest
    storage = Letter._meta.get_field("file").storage
    name = storage.save(f"skts/{letter.year}/{letter.pk}-{digest[:16]}.pdf", ContentFile(pdf))
    stored = Letter.objects.filter(pk=letter.pk, sha256="").update(
        sha256=digest, file=name, rendered_at=timezone.now()
    )
    if not stored:
        storage.delete(name)
        return False
    return True


def letters_download_record(*, user: User, letters: Sequence[Letter]) -> int:
    """An institution admin's download reads the holders' full data (NIK, addresses): one
    access-log row per letter, which each holder sees on their own page. The holder's own
    downloads are not logged. Returns the rows written."""
    holder = selectors.linked_non_permanent(user)
    others = [letter for letter in letters if holder is None or letter.resident_id != holder.pk]
    if not others:
        return 0
    institution = selectors.institution_of(user)
    return registry_services.access_log_record_many(
        registry=Registry.NON_PERMANENT,
        record_ids=[letter.resident_id for letter in others],
        purpose=AccessPurpose.INSTITUTION_READ,
        actor_label=institution.name if institution is not None else "",
        reason="SKTS " + ", ".join(letter.number for letter in others)[:280],
    )


def letters_read_record(*, user: User, resident_ids: Iterable[int], purpose: AccessPurpose) -> int:
    """A page or file that shows letter holders' names (Dukcapil's register and its CSV, an
    institution's letters page): one access row per holder shown, in one insert, which each
    holder sees on their own page. An institution's read is labelled with its name. Returns
    the rows written."""
    institution = (
        selectors.institution_of(user) if purpose == AccessPurpose.INSTITUTION_READ else None
    )
    return registry_services.access_log_reads(
        records=((Registry.NON_PERMANENT, resident_id) for resident_id in resident_ids),
        purpose=purpose,
        actor=user,
        actor_label=institution.name if institution is not None else "",
    )


@transaction.atomic
@transaction.atomic
def letter_revoke(*, letter: Letter, actor: User, reason: str) -> Letter:
    """Dukcapil revokes a letter in force, with a reason; the verification page says so and
    the audit trail records who did it."""
    reason = reason.strip()
    if not policy.can_manage_letters(actor):
        raise NotYourResident()
    if not reason:
        raise CannotRevoke()
    updated = Letter.objects.filter(pk=letter.pk, status=LetterStatus.ISSUED).update(
        status=LetterStatus.REVOKED,
        revoked_at=timezone.now(),
        revoked_by=actor,
        revoke_reason=reason[:1000],
    )
    if updated != 1:
        raise CannotRevoke()
    letter.refresh_from_db()
    registry_services.audit_record(
        actor=actor,
        action=AuditAction.LETTER_REVOKE,
        registry=Registry.NON_PERMANENT,
        record_id=letter.resident_id,
        reference=letter.number,
        detail=reason[:300],
    )
    return letter


def letters_end_closed() -> int:
    """Letters whose non-permanent record was closed (moved away, died) end early. The
    verification page reads the record too, so this only makes the register's status
    permanent; safe to run again."""
    closed = Q(resident__closed_at__isnull=False) | ~Q(resident__life_status=LifeStatus.ALIVE)
    ids = list(
        Letter.objects.filter(closed, status=LetterStatus.ISSUED).values_list("pk", flat=True)
    )
    return Letter.objects.filter(pk__in=ids, status=LetterStatus.ISSUED).update(
        status=LetterStatus.ENDED, ended_at=timezone.now()
    )


def _reminder_recipients(letter: Letter) -> list[str]:
    emails = set()
    holder = submission_selectors.account_for_resident(letter.resident)
    if holder is not None and holder.email:
        emails.add(holder.email)
    if letter.institution_id is not None:
        emails.update(
            InstitutionMember.objects.filter(
                institution_id=letter.institution_id, user__is_active=True
            ).values_list("user__email", flat=True)
        )
    return sorted(e for e in emails if e)


def reminders_send(*, today: datetime.date | None = None) -> int:
    """E-mail the holder and their institution's admins SKTS_REMINDER_DAYS before a letter in
    force ends. Once per letter: reminder_sent_at is set in the same transaction as the
    sending, so a repeated run or a redelivered task sends nothing twice."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=settings.SKTS_REMINDER_DAYS)
    due = Letter.objects.filter(
        status=LetterStatus.ISSUED,
        reminder_sent_at__isnull=True,
        valid_until__gte=today,
        valid_until__lte=horizon,
        resident__closed_at__isnull=True,
    ).select_related("resident")
    sent = 0
    for letter in due:
        recipients = _reminder_recipients(letter)
        with override("id"):
            context = {"letter": letter, "days": (letter.valid_until - today).days}
            subject = render_to_string("skts/email/reminder_subject.txt", context).strip()
            body = render_to_string("skts/email/reminder_body.txt", context)
        with transaction.atomic():
            claimed = Letter.objects.filter(pk=letter.pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=timezone.now()
            )
            if not claimed:
                continue
            if recipients:
                send_mail(subject, body, None, recipients)
        sent += 1
    return sent
