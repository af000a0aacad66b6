"""One function per domain event; each writes the event row and notifies the people concerned."""

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import override

from citizens.models import User
from submissions.choices import Status
from submissions.models import Notification, Submission, SubmissionEvent


def status_changed(
    *,
    submission: Submission,
    from_status: str,
    to_status: str,
    actor: User | None,
    tier: str = "",
    note: str = "",
) -> SubmissionEvent:
    event = SubmissionEvent.objects.create(
        submission=submission,
        from_status=from_status,
        to_status=to_status,
        tier=tier,
        actor=actor,
        note=note,
    )
    recipients = {u for u in (submission.citizen_id, submission.filed_by_id) if u}
    with override("id"):
        message = _("Submission %(code)s: %(status)s") % {
            "code": submission.tracking_code,
            "status": Status(to_status).label,
        }
    Notification.objects.bulk_create(
        Notification(user_id=user_id, submission=submission, message=message)
        for user_id in sorted(recipients)
        if user_id != getattr(actor, "pk", None) or to_status != Status.DRAFT
    )
    from submissions.tasks import send_status_email

    transaction.on_commit(lambda: send_status_email.delay(event.pk))
    return event
