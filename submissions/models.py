"""Change requests from citizens and village operators, in the shape of form F-1.06: for each
data element the value before, the value after, and the document that proves it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.choices import Registry
from citizens.fields import EncryptedTextField
from citizens.models import AppendOnlyModel, Desa, Family
from submissions.choices import OPEN_STATUSES, Channel, Kind, RejectReason, Status, Tier


class Submission(models.Model):
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.DRAFT
    )
    current_tier = models.CharField(_("tier"), max_length=12, choices=Tier.choices, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("filed by"),
    )
    citizen = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submissions",
        verbose_name=_("citizen account"),
    )
    consent_given = models.BooleanField(_("the resident consented"), default=False)
    # Whom it concerns: a registry record (none yet for a birth or an arrival).
    subject_registry = models.CharField(max_length=16, choices=Registry.choices, blank=True)
    subject_id = models.BigIntegerField(null=True, blank=True)
    # Keyed hash identifying the person (or family and child), for the one-open-per-kind rule.
    subject_key = models.CharField(max_length=64)
    family = models.ForeignKey(
        Family, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    desa = models.ForeignKey(
        Desa, on_delete=models.PROTECT, related_name="+", verbose_name=_("village")
    )
    whole_family = models.BooleanField(_("for the whole family"), default=False)
    description = EncryptedTextField(_("description"), blank=True)
    officer_note = models.TextField(_("officer's note"), blank=True)
    # The elements an officer asked the citizen to revise.
    returned_fields = models.JSONField(default=list, blank=True)
    decision_code = models.CharField(
        _("reason for rejection"), max_length=20, choices=RejectReason.choices, blank=True
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    # The review tiers, copied from the kind's Route when submitted, so a later change of
    # the route does not move submissions already under review.
    route = models.JSONField(default=list, blank=True)
    tier_entered_at = models.DateTimeField(_("waiting at this tier since"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_key"],
                condition=Q(status__in=OPEN_STATUSES),
                name="one_open_submission_per_kind_and_person",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "current_tier", "desa"], name="submission_queue"),
            models.Index(fields=["current_tier", "tier_entered_at"], name="submission_queue_age"),
            # Officers' queues: open items only (decided ones pile up over the years), in
            # waiting order, holding every column the queue's counts read (index-only scans).
            models.Index(
                fields=["current_tier", "tier_entered_at", "id", "status", "desa"],
                condition=Q(status__in=[Status.SUBMITTED, Status.IN_REVIEW]),
                name="submission_open_queue",
            ),
            models.Index(fields=["subject_registry", "subject_id"], name="submission_subject"),
        ]

    def __str__(self) -> str:
        return self.tracking_code


class Route(models.Model):
    """The review tiers of one kind of submission, in order; an administrator may change it."""

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, unique=True)
    tiers = models.JSONField(_("tiers"), help_text=_('In order, e.g. ["desa", "dukcapil"].'))

    class Meta:
        verbose_name = _("review route")
        verbose_name_plural = _("review routes")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {' → '.join(self.tiers)}"

    def clean(self) -> None:
        from submissions.routing import route_validate

        route_validate(self.tiers)


class SubmissionItem(models.Model):
    """One changed data element: before, after, and the basis (the proving document)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="items")
    field = models.CharField(_("data element"), max_length=64)
    value_before = EncryptedTextField(_("before"), blank=True)
    value_after = EncryptedTextField(_("after"), blank=True)
    basis = models.CharField(_("basis of the change"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("changed element")
        verbose_name_plural = _("changed elements")
        constraints = [
            models.UniqueConstraint(fields=["submission", "field"], name="item_once_per_field")
        ]

    def __str__(self) -> str:
        return f"{self.submission_id}:{self.field}"


def _evidence_path(instance: "Evidence", filename: str) -> str:
    # The stored name never reuses the uploaded one (no path tricks, no personal data).
    return f"evidence/{instance.submission_id}/{instance.sha256}{instance.extension}"


class Evidence(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=_evidence_path, max_length=200)
    original_name = EncryptedTextField(_("file name"))
    content_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=5)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return f"evidence #{self.pk}"


class SubmissionEvent(AppendOnlyModel):
    """The timeline: every status change with who, when, tier and note."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=Status.choices)
    tier = models.CharField(max_length=12, choices=Tier.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("submission event")
        verbose_name_plural = _("submission events")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.submission_id}: {self.from_status}->{self.to_status}"


class Notification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message


class StatusEmail(models.Model):
    """Marks an event's e-mail as sent, so a redelivered task sends nothing twice."""

    event = models.OneToOneField(SubmissionEvent, on_delete=models.PROTECT, related_name="+")
    recipients = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"mail for event {self.event_id}"
