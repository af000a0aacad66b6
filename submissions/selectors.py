"""Reads of submissions, always scoped by citizens.policy."""

from django.db.models import Q, QuerySet

from citizens import policy
from citizens.models import User
from submissions.choices import OPEN_STATUSES
from submissions.models import Submission, SubmissionEvent


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
