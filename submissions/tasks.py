from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def send_status_email(event_id: int) -> int:
    """E-mail the people concerned about one status change; safe to run twice (idempotent key)."""
    from submissions.services import status_email_send

    return status_email_send(event_id=event_id)


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def purge_expired_evidence() -> int:
    """Delete evidence files past their retention period (Celery beat, daily), and temporary
    files of writes that never finished; a rerun finds nothing more."""
    from citizens.filecrypt import partials_remove_stale
    from submissions.retention import evidence_purge_expired

    partials_remove_stale()
    return evidence_purge_expired()
