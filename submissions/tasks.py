from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def send_status_email(event_id: int) -> int:
    """E-mail the people concerned about one status change; safe to run twice (idempotent key)."""
    from submissions.services import status_email_send

    return status_email_send(event_id=event_id)
