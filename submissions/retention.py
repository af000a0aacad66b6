"""Evidence files are kept EVIDENCE_RETENTION_DAYS after their submission's decision (or
withdrawal), then deleted: the Evidence row stays with its SHA-256, size and type, and the
F-1.06 statement and the decision record keep what was decided on what."""

import datetime
from functools import partial
from itertools import groupby

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from citizens import services as registry
from citizens.choices import AuditAction
from submissions.choices import Status
from submissions.models import Evidence

CLOSED = (Status.APPROVED, Status.REJECTED, Status.WITHDRAWN)


def evidence_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete the evidence files of submissions closed more than EVIDENCE_RETENTION_DAYS ago;
    one audit entry per submission. Safe to run twice (a purged row has no file). Returns how
    many files were deleted."""
    days = settings.EVIDENCE_RETENTION_DAYS
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    expired = (
        Evidence.objects.filter(submission__status__in=CLOSED)
        .exclude(file="")
        .alias(closed_at=Coalesce("submission__decided_at", "submission__updated_at"))
        .filter(closed_at__lt=cutoff)
        .order_by("submission_id", "pk")
        .values_list("submission_id", "submission__tracking_code", "pk", "file")
    )
    deleted = 0
    for (_submission_id, tracking_code), group in groupby(
        expired.iterator(), key=lambda row: (row[0], row[1])
    ):
        files = {pk: name for _s, _c, pk, name in group}
        with transaction.atomic():
            cleared = Evidence.objects.filter(pk__in=files).exclude(file="").update(file="")
            if not cleared:
                continue  # another run got there first
            registry.audit_record(
                actor=None,
                action=AuditAction.FILES_PURGE,
                reference=tracking_code,
                detail=f"{cleared} evidence file(s) deleted {days} days after the decision",
            )
            transaction.on_commit(partial(_delete, list(files.values())))
        deleted += cleared
    return deleted


def _delete(names: list[str]) -> None:
    storage = Evidence._meta.get_field("file").storage
    for name in names:
        storage.delete(name)
