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
