"""An institution's batch file (CSV/XLSX upload, or the rows of an API batch) is kept
BATCH_FILE_RETENTION_DAYS after the batch was applied, refused or cancelled, then deleted.
The batch and its judged rows stay (the rows' values are encrypted in the table)."""

import datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from citizens import services as registry
from citizens.choices import AuditAction
from stakeholders.choices import UploadStatus
from stakeholders.models import ExchangeBatch

CLOSED = (UploadStatus.APPLIED, UploadStatus.REFUSED, UploadStatus.CANCELLED)


def batch_files_purge_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of batches closed more than BATCH_FILE_RETENTION_DAYS ago; one audit
    entry per batch. Safe to run twice (a purged batch has no file). Batches closed before
    `closed_at` was recorded count from their last known date. Returns files deleted."""
    days = settings.BATCH_FILE_RETENTION_DAYS
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    expired = (
        ExchangeBatch.objects.filter(status__in=CLOSED)
        .exclude(file="")
        .alias(closed=Coalesce("closed_at", "applied_at", "previewed_at", "created_at"))
        .filter(closed__lt=cutoff)
        .order_by("pk")
        .values_list("pk", "file")
    )
    storage = ExchangeBatch._meta.get_field("file").storage
    deleted = 0
    for batch_id, name in expired.iterator():
        with transaction.atomic():
            if not ExchangeBatch.objects.filter(pk=batch_id, file=name).update(file=""):
                continue  # another run got there first
            registry.audit_record(
                actor=None,
                action=AuditAction.FILES_PURGE,
                reference=f"batch:{batch_id}",
                detail=f"batch file deleted {days} days after the batch was closed",
            )
            transaction.on_commit(partial(storage.delete, name))
        deleted += 1
    return deleted
