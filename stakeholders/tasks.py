from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def validate_batch(batch_id: int) -> None:
    """Check every row of a batch into a preview; a redelivery restarts the check."""
    from stakeholders.importing import batch_validate

    batch_validate(batch_id=batch_id)


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def apply_batch(batch_id: int) -> None:
    """Apply a confirmed batch; a redelivery resumes with the rows not yet applied."""
    from stakeholders.importing import batch_apply

    batch_apply(batch_id=batch_id)


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def dispatch_webhooks() -> None:
    """Queue new changes for every active webhook subscription (Celery beat)."""
    from stakeholders.webhooks import webhook_deliveries_enqueue

    webhook_deliveries_enqueue()


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def deliver_webhook(delivery_id: int, attempt: int) -> None:
    """One attempt of one delivery; a duplicate message for the same attempt sends nothing."""
    from stakeholders.webhooks import webhook_deliver

    webhook_deliver(delivery_id=delivery_id, attempt=attempt)


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def purge_expired_batch_files() -> int:
    """Delete batch files past their retention period (Celery beat, daily); safe to rerun."""
    from stakeholders.retention import batch_files_purge_expired

    return batch_files_purge_expired()
