from celery import shared_task


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def render_letter(letter_id: int) -> str:
    """Render one SKTS letter's PDF (idempotent: a second run keeps the first)."""
    from skts.rendering import letter_render

    return letter_render(letter_id=letter_id).sha256


@shared_task(acks_late=True)  # type: ignore[untyped-decorator]
def letters_housekeeping() -> dict[str, int]:
    """Beat: end the letters of closed records, then send the expiry reminders due."""
    from skts.services import letters_end_closed, reminders_send

    return {"ended": letters_end_closed(), "reminded": reminders_send()}
