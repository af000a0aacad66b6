from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def render_change_statement(merge_id: int) -> str:
    """Render the F-1.06 statement of one merge (idempotent: a second run keeps the first)."""
    from verification.statements import change_statement_render

    return change_statement_render(merge_id=merge_id).sha256


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def weekly_head_report() -> int:
    """Last week's summary for the head (stored once per week, then e-mailed)."""
    from verification.reports import weekly_report_create

    return weekly_report_create().pk


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def monthly_statistics_report() -> int:
    """Last month's aggregates for the statistics office (stored once, then e-mailed)."""
    from verification.reports import monthly_report_create

    return monthly_report_create().pk
