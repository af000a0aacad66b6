"""Review of submissions: who holds an item, every decision, and every merge into the registry."""

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.choices import Registry
from citizens.models import AppendOnlyModel
from submissions.choices import Kind, RejectReason, Tier
from submissions.models import Submission
from verification.choices import Outcome


class Claim(models.Model):
    """An officer is reviewing this item; others see it taken until the claim expires."""

    submission = models.OneToOneField(Submission, on_delete=models.CASCADE, related_name="claim")
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    tier = models.CharField(max_length=12, choices=Tier.choices)
    claimed_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")

    def __str__(self) -> str:
        return f"{self.submission_id} by {self.officer_id}"


class Decision(AppendOnlyModel):
    """One officer's decision at one tier. `version_seen` is the submission's version the
    officer decided on: unique, so two decisions on the same state cannot both be stored."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="decisions")
    version_seen = models.PositiveIntegerField()
    tier = models.CharField(_("tier"), max_length=12, choices=Tier.choices)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("officer"),
    )
    outcome = models.CharField(_("decision"), max_length=8, choices=Outcome.choices)
    reason_code = models.CharField(
        _("reason"), max_length=20, choices=RejectReason.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)
    # For a return: the elements to revise. For a merge: the conflicting elements confirmed.
    fields = models.JSONField(default=list, blank=True)
    confirmed_fields = models.JSONField(default=list, blank=True)
    # When the item reached this tier, for time-to-decision figures.
    arrived_at = models.DateTimeField(null=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    class Meta:
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        ordering = ["decided_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "version_seen"], name="one_decision_per_version"
            )
        ]
        indexes = [models.Index(fields=["decided_at"], name="decision_time")]

    def __str__(self) -> str:
        return f"{self.submission_id}@{self.tier}: {self.outcome}"


class Merge(AppendOnlyModel):
    """The change event of an approved submission written into the registry: one per
    submission (a second merge is impossible), read by the stakeholder change feed."""

    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="merge")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    registry = models.CharField(max_length=16, choices=Registry.choices)
    record_id = models.BigIntegerField()
    # How many RecordChange rows the merge wrote (their source_ref is the tracking code).
    changes = models.PositiveIntegerField(default=0)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        indexes = [models.Index(fields=["registry", "record_id"], name="merge_record")]

    def __str__(self) -> str:
        return f"merge of {self.submission_id}"


def _statement_path(instance: "ChangeStatement", filename: str) -> str:
    return (
        f"statements/{instance.merge.merged_at:%Y}/{instance.merge_id}-{instance.sha256[:16]}.pdf"
    )


class ChangeStatement(models.Model):
    """The F-1.06 change statement of a merge, as a PDF rendered by a Celery worker."""

    merge = models.OneToOneField(Merge, on_delete=models.PROTECT, related_name="statement")
    file = models.FileField(upload_to=_statement_path, max_length=200)
    sha256 = models.CharField(max_length=64)
    generated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("F-1.06 change statement")
        verbose_name_plural = _("F-1.06 change statements")

    def __str__(self) -> str:
        return f"F-1.06 of merge {self.merge_id}"


class ReportKind(models.TextChoices):
    WEEKLY_HEAD = "weekly_head", _("Weekly summary for the head of Dukcapil")
    MONTHLY_STATISTICS = "monthly_statistics", _("Monthly aggregates for the statistics office")


def _report_path(instance: "Report", filename: str) -> str:
    return f"reports/{instance.kind}/{instance.period_start:%Y-%m-%d}-{filename}"


class Report(models.Model):
    """A scheduled report (`verification.reports`): one per kind and period, its files kept
    outside the static root and served through a permission-checked view."""

    kind = models.CharField(max_length=24, choices=ReportKind.choices)
    period_start = models.DateField()
    period_end = models.DateField()  # exclusive
    csv_file = models.FileField(upload_to=_report_path, max_length=200)
    pdf_file = models.FileField(upload_to=_report_path, max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.UniqueConstraint(fields=["kind", "period_start"], name="report_once_per_period")
        ]
        ordering = ["-period_start", "kind"]

    def __str__(self) -> str:
        return f"{self.kind} {self.period_start}"

    @property
    def period_last_day(self) -> datetime.date:
        return self.period_end - datetime.timedelta(days=1)
