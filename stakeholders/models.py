"""Partner institutions, their data-sharing agreements and field authority, and what they
exchange with the registry: batches (CSV/XLSX uploads and API calls) row by row, API keys,
and webhook subscriptions."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.fields import EncryptedTextField
from stakeholders import catalogue
from stakeholders.choices import (
    AgreementKind,
    AgreementStatus,
    InstitutionKind,
    ReadScope,
    RowOutcome,
    UploadFormat,
    UploadStatus,
    WriteMode,
)


class Institution(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=InstitutionKind.choices)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agreement(models.Model):
    """An MoU or a cooperation agreement (PKS) under Permendagri 102/2019 (as amended by
    17/2023). Exchange needs both in force: active and inside their validity."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="agreements"
    )
    kind = models.CharField(_("kind"), max_length=4, choices=AgreementKind.choices)
    number = models.CharField(_("number"), max_length=80)
    purpose = models.TextField(_("purpose"))
    signed_on = models.DateField(_("signed on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    # The population a PKS lets the institution read (catalogue.AGREEMENT_SCOPES), set only
    # through services.agreement_scope_set, which writes an audit entry.
    read_scope = models.CharField(
        _("population covered"), max_length=8, choices=ReadScope.choices, default=ReadScope.NONE
    )
    scope_min_age = models.PositiveSmallIntegerField(_("from age"), null=True, blank=True)
    scope_max_age = models.PositiveSmallIntegerField(_("up to age"), null=True, blank=True)
    scope_desa = models.ForeignKey(
        "citizens.Desa",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("village covered"),
    )
    scope_clause = models.CharField(_("clause naming the population"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("agreement")
        verbose_name_plural = _("agreements")
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                name="agreement_period_ordered",
                condition=Q(valid_until__gte=models.F("valid_from")),
            ),
            models.CheckConstraint(
                name="agreement_scope_ages_ordered",
                condition=Q(scope_min_age__isnull=True)
                | Q(scope_max_age__isnull=True)
                | Q(scope_max_age__gte=models.F("scope_min_age")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class FieldAuthority(models.Model):
    """What one institution may do with one element: write it (adopted directly or sent to
    review) and read it."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="authorities"
    )
    field = models.CharField(_("data element"), max_length=40)
    write = models.CharField(
        _("write"), max_length=8, choices=WriteMode.choices, default=WriteMode.NONE
    )
    read = models.BooleanField(_("read"), default=False)

    class Meta:
        verbose_name = _("field authority")
        verbose_name_plural = _("field authorities")
        constraints = [
            models.UniqueConstraint(fields=["institution", "field"], name="authority_once"),
        ]

    def __str__(self) -> str:
        return f"{self.institution_id}:{self.field}"

    def clean(self) -> None:
        element = catalogue.BY_FIELD.get(self.field)
        if element is None:
            raise ValidationError(_("Unknown data element."))
        if self.write != WriteMode.NONE and not element.writable:
            raise ValidationError(_("Only Dukcapil writes core identity (NIK, name, birth date)."))


class InstitutionMember(models.Model):
    """An institution admin account, invited by the head of Dukcapil. A deactivated member
    no longer acts for the institution, and the API keys they hold are suspended."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="institution_member"
    )
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="members")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("institution admin")
        verbose_name_plural = _("institution admins")

    def __str__(self) -> str:
        return f"{self.user_id}@{self.institution_id}"


def _batch_path(instance: "ExchangeBatch", filename: str) -> str:
    # Never the uploaded name (no path tricks, no personal data in file names).
    return f"exchange/{instance.institution_id}/{instance.sha256}{instance.extension}"


class ExchangeBatch(models.Model):
    """One file upload or one API batch: validated into rows and previewed, then applied."""

    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="batches")
    format = models.CharField(_("format"), max_length=14, choices=UploadFormat.choices)
    via_api = models.BooleanField(default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=UploadStatus.choices, default=UploadStatus.RECEIVED
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=_batch_path, max_length=200, blank=True)
    original_name = EncryptedTextField(_("file name"), blank=True)
    extension = models.CharField(max_length=5, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    # A file's SHA-256, or an API batch's idempotency key: the same one is never applied twice.
    sha256 = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=80, blank=True)
    refusal = models.TextField(_("reason for refusal"), blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    field_summary = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("received at"), default=timezone.now)
    previewed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    # Applied, refused or cancelled: the stored file is deleted BATCH_FILE_RETENTION_DAYS later.
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("exchange batch")
        verbose_name_plural = _("exchange batches")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "sha256"],
                # A refused or cancelled file may be sent again.
                condition=~Q(sha256="")
                & ~Q(status__in=[UploadStatus.REFUSED, UploadStatus.CANCELLED]),
                name="batch_file_once",
            ),
            models.UniqueConstraint(
                fields=["institution", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="batch_idempotency_key_once",
            ),
        ]

    def __str__(self) -> str:
        return f"batch #{self.pk}"


class ExchangeRow(models.Model):
    """One row of a batch, as parsed and judged; applying marks it done, so a batch resumes
    where a killed worker stopped."""

    batch = models.ForeignKey(ExchangeBatch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(_("line"))
    nik_index = models.CharField(max_length=64, blank=True)
    # The row's values by registry field, as text (JSON), encrypted: they are personal data.
    values = EncryptedTextField(blank=True)
    effective_date = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices, blank=True)
    errors = models.TextField(blank=True)
    applied = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("exchange row")
        verbose_name_plural = _("exchange rows")
        constraints = [models.UniqueConstraint(fields=["batch", "line"], name="row_line_once")]
        indexes = [models.Index(fields=["batch", "applied", "line"], name="row_pending")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line}"


class ApiKey(models.Model):
    """An institution's API key: shown once, stored as a SHA-256 of a 256-bit secret (enough
    entropy that a fast hash is safe), revocable, expiring. It acts for its owner (the admin
    who issued it, or the member it was handed to) and is valid only while the owner is an
    active member of the institution; deactivating the owner suspends it."""

    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=80)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("held by"),
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    suspended_at = models.DateTimeField(_("suspended at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}…"


class WebhookSubscription(models.Model):
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=300)
    secret = EncryptedTextField()
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One change sent to one subscription: unique, so it is delivered at most once even
    when the task runs again; retried with back-off until delivered or given up."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    change_id = models.BigIntegerField()
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "change_id"], name="delivery_once_per_change"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}:{self.change_id}"
