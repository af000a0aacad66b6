"""Reads of the review: the officer's queue, what the review page shows and warns about, the
dashboard figures and the audit search. Every read is scoped by citizens.policy, and the
queue costs the same number of queries whatever the number of items on its page."""

import datetime
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citizens import crypto, policy
from citizens import selectors as citizen_selectors
from citizens.choices import LifeStatus, Registry
from citizens.models import (
    AnyResident,
    AuditEntry,
    Desa,
    Family,
    NonPermanentResident,
    PermanentResident,
    RecordChange,
    User,
)
from submissions import kinds, routing
from submissions import selectors as submission_selectors
from submissions.choices import TIER_ORDER, Kind, Status, Tier
from submissions.models import Evidence, Submission, SubmissionItem
from verification import merge, sla
from verification.models import ChangeStatement, Claim, Decision, Merge

REVIEWABLE = (Status.SUBMITTED, Status.IN_REVIEW)
# Open submissions another one is compared with (a draft is still the citizen's own).
_PENDING = (Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED)
_RESIDENT_MODELS: dict[str, type[PermanentResident] | type[NonPermanentResident]] = {
    Registry.PERMANENT: PermanentResident,
    Registry.NON_PERMANENT: NonPermanentResident,
}


def normalised_name(name: str) -> str:
    """Names compared the way people write them: case and spacing do not matter."""
    return " ".join(name.split()).upper()


# The queue


@dataclass(frozen=True)
class QueueFilters:
    kind: str = ""
    status: str = ""
    older_than_days: int | None = None
    desa_id: int | None = None
    tracking_code: str = ""
    # The blind index of a NIK searched for (the NIK itself never reaches a selector's URL).
    nik_index: str = ""


def queue_scope(officer: User) -> QuerySet[Submission]:
    """Items waiting at the officer's tier in the officer's jurisdiction."""
    tier = policy.review_tier(officer)
    if tier is None:
        return Submission.objects.none()
    return Submission.objects.filter(
        policy.desa_filter(officer), current_tier=tier, status__in=REVIEWABLE
    )


def _person_q(index: str) -> Q:
    """Submissions about the person with this NIK index: keyed by it, about their record, or
    (a birth) about their family."""
    permanent = PermanentResident.objects.filter(nik_index=index)
    return (
        Q(subject_key=index)
        | Q(subject_registry=Registry.PERMANENT, subject_id__in=permanent.values("pk"))
        | Q(
            subject_registry=Registry.NON_PERMANENT,
            subject_id__in=NonPermanentResident.objects.filter(nik_index=index).values("pk"),
        )
        | Q(subject_registry=Registry.FAMILY, subject_id__in=permanent.values("family_id"))
    )


def queue_for_officer(
    officer: User, filters: QueueFilters | None = None, *, now: datetime.datetime | None = None
) -> QuerySet[Submission]:
    """The officer's queue, oldest at the tier first, with its filters applied."""
    filters = filters or QueueFilters()
    submissions = queue_scope(officer)
    if filters.kind:
        submissions = submissions.filter(kind=filters.kind)
    if filters.status:
        submissions = submissions.filter(status=filters.status)
    if filters.older_than_days:
        since = (now or timezone.now()) - datetime.timedelta(days=filters.older_than_days)
        submissions = submissions.filter(tier_entered_at__lt=since)
    if filters.desa_id:
        submissions = submissions.filter(desa_id=filters.desa_id)
    if filters.tracking_code:
        submissions = submissions.filter(tracking_code=filters.tracking_code)
    if filters.nik_index:
        submissions = submissions.filter(_person_q(filters.nik_index))
    return (
        submissions.select_related("desa__kecamatan", "claim__officer")
        .defer("description")
        .order_by("tier_entered_at", "pk")
    )


@dataclass(frozen=True)
class QueueCounts:
    submitted: int = 0
    in_review: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.submitted + self.in_review


def queue_counts(officer: User, *, now: datetime.datetime | None = None) -> QueueCounts:
    """Items per status in the officer's whole queue, and how many are overdue (one query)."""
    cutoff = sla.overdue_before(now)
    rows = (
        queue_scope(officer)
        .order_by()
        .values("status")
        .annotate(total=Count("pk"), overdue=Count("pk", filter=Q(tier_entered_at__lt=cutoff)))
    )
    totals = {str(row["status"]): int(row["total"]) for row in rows}
    return QueueCounts(
        submitted=totals.get(Status.SUBMITTED, 0),
        in_review=totals.get(Status.IN_REVIEW, 0),
        overdue=sum(int(row["overdue"]) for row in rows),
    )


@dataclass(frozen=True)
class QueueRow:
    submission: Submission
    name: str
    overdue: bool
    working_days_waiting: int
    claimed_by: User | None
    claimed_until: datetime.datetime | None
    claimed_by_me: bool


def _subject_names(submissions: Sequence[Submission]) -> dict[int, str]:
    """The person's name for each submission: from the registry record (one query per
    registry), else the name proposed in the submission (a birth, an arrival)."""
    wanted: dict[str, set[int]] = defaultdict(set)
    for submission in submissions:
        if submission.subject_registry in _RESIDENT_MODELS and submission.subject_id:
            wanted[submission.subject_registry].add(submission.subject_id)
    found: dict[tuple[str, int], str] = {}
    for registry, ids in wanted.items():
        rows = _RESIDENT_MODELS[registry].objects.filter(pk__in=ids).values_list("pk", "full_name")
        found.update({(registry, pk): name for pk, name in rows})
    names = {
        submission.pk: found[(submission.subject_registry, submission.subject_id)]
        for submission in submissions
        if submission.subject_id is not None
        and (submission.subject_registry, submission.subject_id) in found
    }
    missing = [submission.pk for submission in submissions if submission.pk not in names]
    if missing:
        proposed = SubmissionItem.objects.filter(
            submission_id__in=missing, field="full_name"
        ).values_list("submission_id", "value_after")
        names.update(dict(proposed))
    return names


def queue_rows(
    *, officer: User, submissions: Sequence[Submission], now: datetime.datetime | None = None
) -> list[QueueRow]:
    """One page of the queue with names, overdue marks and claims; a fixed number of queries
    (the claims come with the page through queue_for_officer's select_related)."""
    now = now or timezone.now()
    cutoff = sla.overdue_before(now)
    holidays = sla.parse_holidays(settings.REVIEW_HOLIDAYS)
    today = timezone.localtime(now).date()
    names = _subject_names(submissions)
    rows = []
    for submission in submissions:
        entered = submission.tier_entered_at or submission.submitted_at or submission.created_at
        claim: Claim | None = getattr(submission, "claim", None)
        active = claim is not None and claim.expires_at > now
        rows.append(
            QueueRow(
                submission=submission,
                name=names.get(submission.pk, ""),
                overdue=entered < cutoff,
                working_days_waiting=sla.working_days_between(
                    timezone.localtime(entered).date(), today, holidays
                ),
                claimed_by=claim.officer if active and claim is not None else None,
                claimed_until=claim.expires_at if active and claim is not None else None,
                claimed_by_me=active and claim is not None and claim.officer_id == officer.pk,
            )
        )
    return rows


def villages_for(officer: User) -> list[Desa]:
    """The villages in the officer's jurisdiction, by kecamatan (for the queue's filter)."""
    villages = Desa.objects.select_related("kecamatan").order_by("kecamatan__name", "name")
    return [desa for desa in villages if policy.covers_desa(officer, desa)]


# The review page


def submission_for_review(*, officer: User, tracking_code: str) -> Submission | None:
    """The submission if this officer's jurisdiction covers its desa (drafts stay the
    citizen's own); None otherwise, and callers answer 404 so a code reveals nothing."""
    if not policy.is_officer(officer):
        return None
    submission = (
        Submission.objects.select_related("desa__kecamatan", "family", "filed_by", "citizen")
        .filter(tracking_code=tracking_code)
        .exclude(status=Status.DRAFT)
        .first()
    )
    if submission is None or not policy.covers_desa(officer, submission.desa):
        return None
    return submission


@dataclass(frozen=True)
class ReviewRow:
    field: str
    label: str
    before: str
    now: str
    after: str
    basis: str
    conflict: bool


@dataclass(frozen=True)
class EvidenceRow:
    evidence: Evidence
    is_image: bool


@dataclass(frozen=True)
class OtherSubmission:
    tracking_code: str
    kind: str
    status: str


@dataclass
class ReviewData:
    submission: Submission
    record: AnyResident | Family | None
    person: AnyResident | None
    rows: list[ReviewRow]
    conflicts: list[str]
    warnings: list[str]
    other_open: list[OtherSubmission]
    evidence: list[EvidenceRow]
    history: list[RecordChange]
    timeline: list[submission_selectors.TimelineEntry]
    decisions: list[Decision]
    claim: Claim | None
    final_tier: bool
    needs_input: tuple[str, ...]
    elements: list[tuple[str, str]] = field(default_factory=list)


def _review_value(name: str, text: str) -> str:
    # Officers check the full NIK against the documents; everything else reads as on forms.
    return text if name == "nik" else kinds.display_value(name, text)


def is_final_tier(submission: Submission) -> bool:
    """No tier follows the current one on the submission's route: approving merges."""
    route = submission.route or [str(tier) for tier in routing.route_for(submission.kind)]
    if not submission.current_tier or submission.current_tier not in route:
        return False
    return routing.next_tier(route, submission.current_tier) is None


def kind_elements(submission: Submission) -> list[tuple[str, str]]:
    """The kind's data elements with their labels (the elements a return may name)."""
    spec = kinds.SPECS[Kind(submission.kind)]
    return [(name, str(kinds.FIELD_LABELS.get(name, name))) for name in spec.elements]


def _other_open(submission: Submission) -> list[OtherSubmission]:
    same = Q(subject_key=submission.subject_key)
    if submission.subject_registry and submission.subject_id is not None:
        same |= Q(subject_registry=submission.subject_registry, subject_id=submission.subject_id)
    return [
        OtherSubmission(code, str(Kind(kind).label), str(Status(status).label))
        for code, kind, status in Submission.objects.filter(same, status__in=_PENDING)
        .exclude(pk=submission.pk)
        .order_by("created_at")
        .values_list("tracking_code", "kind", "status")
    ]


def _parents_missing(submission: Submission, after: dict[str, str]) -> list[str]:
    """A birth's father or mother who is not a member of the family card."""
    if submission.kind != Kind.BIRTH or submission.family_id is None:
        return []
    members = {
        normalised_name(name)
        for name in PermanentResident.objects.filter(family_id=submission.family_id).values_list(
            "full_name", flat=True
        )
    }
    warnings = []
    for name, message in (
        ("father_name", _("The father's name (%(name)s) is not a member of the family card.")),
        ("mother_name", _("The mother's name (%(name)s) is not a member of the family card.")),
    ):
        value = after.get(name, "").strip()
        if value and normalised_name(value) not in members:
            warnings.append(message % {"name": value})
    return warnings


def _nik_taken(submission: Submission, after: dict[str, str]) -> list[str]:
    """An arrival or non-permanent registration whose NIK is already in a registry."""
    if submission.kind not in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        return []
    index = crypto.nik_index(after["nik"]) if after.get("nik") else submission.subject_key
    warnings = []
    for registry, model in _RESIDENT_MODELS.items():
        found = model.objects.filter(nik_index=index)
        if submission.subject_registry == registry and submission.subject_id is not None:
            found = found.exclude(pk=submission.subject_id)
        status = found.values_list("life_status", flat=True).first()
        if status is not None:
            warnings.append(
                _("This NIK is already registered as a %(registry)s (life status: %(status)s).")
                % {
                    "registry": str(Registry(registry).label).lower(),
                    "status": str(LifeStatus(status).label).lower(),
                }
            )
    return warnings


def _identity(
    submission: Submission, after: dict[str, str], person: AnyResident | None
) -> tuple[str, datetime.date | None]:
    """Name and date of birth of the person as they would be after the change."""
    name = after.get("full_name") or (person.full_name if person is not None else "")
    birth_date = person.birth_date if person is not None else None
    if after.get("birth_date"):
        try:
            birth_date = datetime.date.fromisoformat(after["birth_date"])
        except ValueError:
            birth_date = None
    return name, birth_date


def _possible_duplicates(
    submission: Submission, after: dict[str, str], person: AnyResident | None
) -> list[str]:
    """Other people with the same name and date of birth but another NIK: candidates come
    from the birth-date index, names are compared decrypted."""
    name, birth_date = _identity(submission, after, person)
    if not name or birth_date is None:
        return []
    own_index = ""
    if person is not None:
        own_index = person.nik_index
    elif submission.kind in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        own_index = crypto.nik_index(after["nik"]) if after.get("nik") else submission.subject_key
    wanted = normalised_name(name)
    found = 0
    for registry, model in _RESIDENT_MODELS.items():
        candidates = model.objects.filter(birth_date=birth_date)
        if submission.subject_registry == registry and submission.subject_id is not None:
            candidates = candidates.exclude(pk=submission.subject_id)
        for full_name, index in candidates.values_list("full_name", "nik_index"):
            if index != own_index and normalised_name(full_name) == wanted:
                found += 1
    if not found:
        return []
    return [
        ngettext(
            "Possible duplicate person: %(count)d other record has the same name and date of "
            "birth with another NIK.",
            "Possible duplicate person: %(count)d other records have the same name and date "
            "of birth with another NIK.",
            found,
        )
        % {"count": found}
    ]


def review_warnings(
    submission: Submission,
    *,
    items: Iterable[SubmissionItem],
    record: AnyResident | Family | None,
    conflicts: Sequence[str],
    other_open: Sequence[OtherSubmission],
) -> list[str]:
    """What the officer must see before deciding."""
    after = {item.field: item.value_after for item in items}
    person = record if isinstance(record, PermanentResident | NonPermanentResident) else None
    warnings = []
    changed_after = (
        record is not None
        and submission.submitted_at is not None
        and record.updated_at > submission.submitted_at
    )
    if conflicts or changed_after:
        warnings.append(
            _(
                "The registry record changed after this submission was made. Compare the "
                'values "in the registry now" with those the citizen saw.'
            )
        )
    for other in other_open:
        warnings.append(
            _(
                "Another open submission concerns the same person or family: %(code)s "
                "(%(kind)s, %(status)s)."
            )
            % {"code": other.tracking_code, "kind": other.kind, "status": other.status}
        )
    warnings += _parents_missing(submission, after)
    warnings += _nik_taken(submission, after)
    warnings += _possible_duplicates(submission, after, person)
    return warnings


def active_claim(submission: Submission, *, now: datetime.datetime | None = None) -> Claim | None:
    return (
        Claim.objects.filter(submission=submission, expires_at__gt=now or timezone.now())
        .select_related("officer")
        .first()
    )


def review_data(*, submission: Submission, officer: User) -> ReviewData:
    """Everything the review page shows: each changed element before (when submitted), in
    the registry now and proposed, with its basis; conflicts; warnings; evidence; the
    person's change history; the timeline and earlier decisions; the claim."""
    spec = kinds.SPECS[Kind(submission.kind)]
    order = {name: index for index, name in enumerate(spec.elements)}
    items = sorted(submission.items.all(), key=lambda item: order.get(item.field, len(order)))
    record = merge.subject_record(submission)
    now_values = merge.current_values(submission)
    conflicts = merge.conflicts(submission, items)
    rows = [
        ReviewRow(
            field=item.field,
            label=str(kinds.FIELD_LABELS.get(item.field, item.field)),
            before=_review_value(item.field, item.value_before),
            now=_review_value(item.field, now_values[item.field])
            if item.field in now_values
            else "",
            after=_review_value(item.field, item.value_after),
            basis=item.basis,
            conflict=item.field in conflicts,
        )
        for item in items
    ]
    other_open = _other_open(submission)
    history = (
        citizen_selectors.record_history(
            registry=submission.subject_registry, record_id=submission.subject_id
        )
        if record is not None and submission.subject_id is not None
        else []
    )
    person = record if isinstance(record, PermanentResident | NonPermanentResident) else None
    return ReviewData(
        submission=submission,
        record=record,
        person=person,
        rows=rows,
        conflicts=conflicts,
        warnings=review_warnings(
            submission, items=items, record=record, conflicts=conflicts, other_open=other_open
        ),
        other_open=other_open,
        evidence=[
            EvidenceRow(evidence, evidence.content_type.startswith("image/"))
            for evidence in submission_selectors.submission_evidence(submission)
        ],
        history=history,
        timeline=submission_selectors.timeline_for_display(submission=submission, viewer=officer),
        decisions=list(
            Decision.objects.filter(submission=submission)
            .select_related("officer")
            .order_by("decided_at", "pk")
        ),
        claim=active_claim(submission),
        final_tier=is_final_tier(submission),
        needs_input=merge.needs_input(submission),
        elements=kind_elements(submission),
    )


def person_nik_index(submission: Submission, record: object) -> str:
    """The blind index naming the person in the audit trail ("" for a family)."""
    if isinstance(record, PermanentResident | NonPermanentResident):
        return record.nik_index
    if submission.kind in (Kind.ARRIVAL, Kind.NON_PERMANENT):
        return submission.subject_key
    return ""


def merged_record(event: Merge) -> AnyResident | None:
    """The person a merge wrote (None for a family-wide change)."""
    model = _RESIDENT_MODELS.get(event.registry)
    return model.objects.filter(pk=event.record_id).first() if model is not None else None


def change_statement_for(submission: Submission) -> ChangeStatement | None:
    return (
        ChangeStatement.objects.select_related("merge").filter(merge__submission=submission).first()
    )


# The dashboard


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    overdue: int = 0


@dataclass(frozen=True)
class TimeToDecision:
    label: str
    decisions: int
    median: datetime.timedelta | None

    @property
    def days(self) -> int:
        return self.median.days if self.median is not None else 0

    @property
    def hours(self) -> int:
        return self.median.seconds // 3600 if self.median is not None else 0

    @property
    def minutes(self) -> int:
        return self.median.seconds % 3600 // 60 if self.median is not None else 0


@dataclass(frozen=True)
class Dashboard:
    total: int
    by_tier: list[Figure]
    by_kind: list[Figure]
    by_kecamatan: list[Figure]
    time_to_decision: list[TimeToDecision]
    period_days: int


def dashboard_for(
    officer: User, *, now: datetime.datetime | None = None, period_days: int = 30
) -> Dashboard:
    """Open items in the officer's jurisdiction by tier, kind and kecamatan (aggregates), and
    the median time from arrival at a tier to the decision there over the last period."""
    now = now or timezone.now()
    cutoff = sla.overdue_before(now)
    open_items = Submission.objects.filter(policy.desa_filter(officer), status__in=REVIEWABLE)
    tiers = {
        row["current_tier"]: row
        for row in open_items.order_by()
        .values("current_tier")
        .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(tier_entered_at__lt=cutoff)))
    }
    by_tier = [
        Figure(str(tier.label), tiers[tier]["n"], tiers[tier]["overdue"])
        for tier in TIER_ORDER
        if tier in tiers
    ]
    by_kind = [
        Figure(str(Kind(row["kind"]).label), row["n"])
        for row in open_items.order_by().values("kind").annotate(n=Count("pk")).order_by("kind")
    ]
    by_kecamatan = [
        Figure(row["desa__kecamatan__name"], row["n"])
        for row in open_items.order_by()
        .values("desa__kecamatan__name")
        .annotate(n=Count("pk"))
        .order_by("desa__kecamatan__name")
    ]
    durations: dict[str, list[float]] = defaultdict(list)
    for tier, arrived_at, decided_at in Decision.objects.filter(
        policy.desa_filter(officer, field="submission__desa"),
        decided_at__gte=now - datetime.timedelta(days=period_days),
        arrived_at__isnull=False,
    ).values_list("tier", "arrived_at", "decided_at"):
        durations[tier].append((decided_at - arrived_at).total_seconds())
    time_to_decision = [
        TimeToDecision(
            str(tier.label),
            len(durations[tier]),
            datetime.timedelta(seconds=round(statistics.median(durations[tier])))
            if durations[tier]
            else None,
        )
        for tier in TIER_ORDER
    ]
    return Dashboard(
        total=sum(figure.count for figure in by_tier),
        by_tier=by_tier,
        by_kind=by_kind,
        by_kecamatan=by_kecamatan,
        time_to_decision=time_to_decision,
        period_days=period_days,
    )


# The audit search


def audit_entries_for(
    viewer: User,
    *,
    officer_email: str = "",
    nik_index: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[AuditEntry]:
    """The audit trail, newest first, for the head of Dukcapil only (nothing for others)."""
    if not policy.can_search_audit(viewer):
        return AuditEntry.objects.none()
    entries = AuditEntry.objects.select_related("actor").order_by("-created_at", "-pk")
    if officer_email:
        entries = entries.filter(actor__email__iexact=officer_email.strip())
    if nik_index:
        entries = entries.filter(nik_index=nik_index)
    zone = timezone.get_current_timezone()
    if date_from is not None:
        start = datetime.datetime.combine(date_from, datetime.time.min)
        entries = entries.filter(created_at__gte=timezone.make_aware(start, zone))
    if date_to is not None:
        end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min)
        entries = entries.filter(created_at__lt=timezone.make_aware(end, zone))
    return entries


def tier_label(code: str) -> str:
    """An audit entry's tier (a plain code there) in the reader's language."""
    return str(Tier(code).label) if code in Tier.values else code
