from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def render_change_statement(merge_id: int) -> str:
    """Render the F-1.06 statement of one merge (idempotent: a second run keeps the first)."""
    from verification.statements import change_statement_render

    return change_statement_render(merge_id=merge_id).sha256
