"""Reads of submissions, always scoped by citizens.policy."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from citizens import policy
from citizens import selectors as citizen_selectors
from citizens.choices import FamilyRelation, LifeStatus, Registry, Role
from citizens.models import (
    AnyResident,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    ResidentLink,
    User,
)
from submissions import transitions
from submissions.choices import OPEN_STATUSES, Status, Tier
from submissions.models import Evidence, Notification, Submission, SubmissionEvent


def submission_get_visible(*, user: User, tracking_code: str) -> Submission | None:
    """The submission if this user may see it, else None (callers answer 404 either way)."""
    submission = (
        Submission.objects.select_related("desa__kecamatan", "filed_by", "citizen")
        .filter(tracking_code=tracking_code)
        .first()
    )
    if submission is None or not policy.can_view_submission(
        user,
        desa=submission.desa,
        filed_by_id=submission.filed_by_id,
        citizen_id=submission.citizen_id,
    ):
        return None
    return submission


def submissions_for_account(user: User) -> QuerySet[Submission]:
    """What a citizen or operator filed, and what was filed for the citizen."""
    return (
        Submission.objects.filter(Q(filed_by=user) | Q(citizen=user))
        .select_related("desa")
        .order_by("-created_at")
    )


def open_submissions_about(*, registry: str, record_ids: list[int]) -> QuerySet[Submission]:
    """Open submissions concerning these records (reports excluded: reporters stay private)."""
    return (
        Submission.objects.filter(
            subject_registry=registry, subject_id__in=record_ids, status__in=OPEN_STATUSES
        )
        .exclude(kind="report")
        .order_by("-created_at")
    )


def submission_timeline(submission: Submission) -> QuerySet[SubmissionEvent]:
    return submission.events.select_related("actor").order_by("created_at", "pk")


def resident_desa(resident: AnyResident) -> Desa:
    if isinstance(resident, PermanentResident):
        return resident.family.desa
    return resident.domicile_desa


def may_file_about(*, user: User, resident: AnyResident, assisted: bool) -> bool:
    """Whom a submission may concern: a citizen files about their own family (same KK as their
    linked record; a non-permanent resident only about themselves), a village operator in
    assisted mode about residents of their own desa."""
    if assisted:
        return policy.can_file_for_resident(user, resident_desa(resident))
    link = citizen_selectors.resident_link_for_user(user)
    if link is None:
        return False
    if link.permanent_resident is not None:
        return (
            isinstance(resident, PermanentResident)
            and resident.family_id == link.permanent_resident.family_id
        )
    return (
        isinstance(resident, NonPermanentResident) and resident.pk == link.non_permanent_resident_id
    )


def filing_subject_get(
    *, user: User, nik: str, assisted: bool, permanent_only: bool = True
) -> AnyResident | None:
    """The registered person a new submission will concern, or None when they are unknown or
    out of this user's reach (the caller cannot tell which: no NIK oracle)."""
    resident = citizen_selectors.resident_get_by_nik(nik)
    if resident is None or (permanent_only and not isinstance(resident, PermanentResident)):
        return None
    return resident if may_file_about(user=user, resident=resident, assisted=assisted) else None


def family_members_for_filing(*, user: User) -> list[AnyResident] | None:
    """Whom a citizen may choose: the living members of their family card (their own record
    first), or only themselves when they are a non-permanent resident. None: not linked."""
    link = citizen_selectors.resident_link_for_user(user)
    if link is None:
        return None
    if link.permanent_resident is None:
        return [link.resident]
    me = link.permanent_resident
    members = (
        PermanentResident.objects.filter(family_id=me.family_id, life_status=LifeStatus.ALIVE)
        .select_related("family__desa__kecamatan")
        .order_by("family_relation", "birth_date", "pk")
    )
    return sorted(members, key=lambda member: member.pk != me.pk)


def family_head(family: Family) -> PermanentResident | None:
    return (
        PermanentResident.objects.filter(
            family=family, family_relation=FamilyRelation.HEAD, life_status=LifeStatus.ALIVE
        )
        .order_by("pk")
        .first()
    )


def account_for_resident(resident: AnyResident | None) -> User | None:
    """The citizen account linked to this resident, if any."""
    if resident is None:
        return None
    link_filter = (
        Q(permanent_resident=resident)
        if isinstance(resident, PermanentResident)
        else Q(non_permanent_resident=resident)
    )
    link = ResidentLink.objects.select_related("user").filter(link_filter).first()
    return link.user if link is not None else None


def submission_subject_records(
    submission: Submission,
) -> tuple[AnyResident | None, Family | None]:
    """The registered resident and family a submission concerns (for editing its proposal)."""
    resident: AnyResident | None = None
    if submission.subject_registry == Registry.PERMANENT and submission.subject_id:
        resident = (
            PermanentResident.objects.select_related("family__desa__kecamatan")
            .filter(pk=submission.subject_id)
            .first()
        )
    elif submission.subject_registry == Registry.NON_PERMANENT and submission.subject_id:
        resident = (
            NonPermanentResident.objects.select_related("domicile_desa__kecamatan")
            .filter(pk=submission.subject_id)
            .first()
        )
    family = resident.family if isinstance(resident, PermanentResident) else None
    if family is None and submission.family_id:
        family = Family.objects.select_related("desa__kecamatan").get(pk=submission.family_id)
    return resident, family


def is_owner(*, user: User, submission: Submission) -> bool:
    """The filer and the citizen it was filed for act on it; officers only decide."""
    return user.pk in (submission.filed_by_id, submission.citizen_id)


@dataclass(frozen=True)
class SubmissionActions:
    edit: bool
    submit: bool
    withdraw: bool


def submission_actions(*, user: User, submission: Submission) -> SubmissionActions:
    status = Status(submission.status)
    owner = is_owner(user=user, submission=submission)
    return SubmissionActions(
        edit=owner and transitions.editable_by_citizen(status),
        submit=owner and transitions.allowed(status, Status.SUBMITTED, side=transitions.CITIZEN),
        withdraw=owner and transitions.allowed(status, Status.WITHDRAWN, side=transitions.CITIZEN),
    )


def submission_evidence(submission: Submission) -> QuerySet[Evidence]:
    return submission.evidence.order_by("uploaded_at", "pk")


def submission_evidence_get(*, submission: Submission, evidence_id: int) -> Evidence | None:
    """One evidence file, only if it belongs to this (already visible) submission and is still
    kept (submissions.retention)."""
    return submission.evidence.filter(pk=evidence_id).exclude(file="").first()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime.datetime
    from_status: str
    to_status: str
    status_label: str
    tier_label: str
    actor: str
    note: str


def _actor_label(actor: User | None, viewer: User) -> str:
    if actor is None:
        return str(_("System"))
    if actor.pk == viewer.pk:
        return str(_("You"))
    if policy.is_officer(actor):
        role = str(Role(actor.role).label)
        place = actor.jurisdiction_desa or actor.jurisdiction_kecamatan
        return f"{role} ({place.name})" if place is not None else role
    return str(_("Citizen"))


def timeline_for_display(*, submission: Submission, viewer: User) -> list[TimelineEntry]:
    """Every status change, oldest first. Officers are named by role and office only."""
    events = submission.events.select_related(
        "actor__jurisdiction_desa", "actor__jurisdiction_kecamatan"
    ).order_by("created_at", "pk")
    return [
        TimelineEntry(
            at=event.created_at,
            from_status=event.from_status,
            to_status=event.to_status,
            status_label=str(Status(event.to_status).label),
            tier_label=str(Tier(event.tier).label) if event.tier else "",
            actor=_actor_label(event.actor, viewer),
            note=event.note,
        )
        for event in events
    ]


def notifications_for(user: User) -> QuerySet[Notification]:
    return (
        Notification.objects.filter(user=user)
        .select_related("submission")
        .order_by("-created_at", "-pk")
    )


def notifications_unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def submission_person(submission: Submission) -> tuple[str, int, str] | None:
    """Whose record a submission shows, as (registry, id, NIK blind index): its subject, else
    its family card; None for a person not yet in the registry (a birth, an arrival)."""
    if submission.subject_id is not None and submission.subject_registry:
        model = (
            PermanentResident
            if submission.subject_registry == Registry.PERMANENT
            else NonPermanentResident
        )
        index = (
            model.objects.filter(pk=submission.subject_id)
            .values_list("nik_index", flat=True)
            .first()
        )
        return submission.subject_registry, submission.subject_id, index or ""
    if submission.family_id is not None:
        return str(Registry.FAMILY), submission.family_id, ""
    return None


def submission_records(submissions: Iterable[Submission]) -> list[tuple[str, int]]:
    """The records a list of submissions shows, as (registry, id): each one's subject, else
    its family card. No query."""
    records: list[tuple[str, int]] = []
    for submission in submissions:
        if submission.subject_id is not None and submission.subject_registry:
            records.append((submission.subject_registry, submission.subject_id))
        elif submission.family_id is not None:
            records.append((str(Registry.FAMILY), submission.family_id))
    return records
