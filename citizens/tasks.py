from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def rotate_encryption_keys() -> dict[str, int]:
    """Long maintenance run; safe to redeliver (re-encrypting twice changes nothing visible)."""
    from citizens.services import encryption_keys_rotate

    return encryption_keys_rotate()
