from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def rotate_encryption_keys() -> dict[str, int]:
    """Long maintenance run; safe to redeliver (re-encrypting twice changes nothing visible)."""
    from citizens.services import encryption_keys_rotate

    return encryption_keys_rotate()


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def refresh_statistics() -> int:
    """Recount the published statistics (Celery beat); a rerun only counts again."""
    from citizens.statistics import statistics_refresh

    return statistics_refresh()


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def check_data_quality() -> dict[str, int]:
    """Run the data-quality rules and replace the findings (Celery beat, nightly)."""
    from citizens.quality import quality_refresh

    return quality_refresh()


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def clear_expired_sessions() -> int:
    """Delete ended sessions and what they held (Celery beat, hourly); a rerun finds none."""
    from citizens.sessions import sessions_clear_expired

    return sessions_clear_expired()
