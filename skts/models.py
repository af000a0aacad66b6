"""SKTS (surat keterangan tinggal sementara): requests and the letters issued on approval.

A request is a review submission of kind skts about a non-permanent resident; what the letter
needs beyond the registry (the host or guarantor) is kept here. A letter is issued once per
submission (unique), numbered from a gap-free sequence per year.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from citizens.fields import EncryptedTextField
from citizens.models import NonPermanentResident
from skts.choices import LetterStatus
from stakeholders.models import Institution
from submissions.models import Submission


class LetterRequest(models.Model):
    submission = models.OneToOneField(
        Submission, on_delete=models.PROTECT, related_name="skts_request"
    )
    resident = models.ForeignKey(NonPermanentResident, on_delete=models.PROTECT, related_name="+")
    # Set when an institution admin asked for it: the institution's admins may download it.
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    host_name = EncryptedTextField(_("host or guarantor"))
    host_nik = EncryptedTextField(_("NIK of the host or guarantor"))
    host_nik_index = models.CharField(max_length=64)
    renews = models.ForeignKey(
        "Letter", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("SKTS request")
        verbose_name_plural = _("SKTS requests")

    def __str__(self) -> str:
        return f"skts request #{self.pk}"


class LetterSequence(models.Model):
    """The last number issued in a year; locked (select_for_update) while a letter is
    inserted in the same transaction, so a rollback gives the number back: no gaps."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


def _letter_path(instance: "Letter", filename: str) -> str:
    # Never the number or a name: no personal data in file names.
    return f"skts/{instance.year}/{instance.pk}-{instance.sha256[:16]}.pdf"


class Letter(models.Model):
    submission = models.OneToOneField(Submission, on_delete=models.PROTECT, related_name="+")
    request = models.OneToOneField(LetterRequest, on_delete=models.PROTECT, related_name="letter")
    resident = models.ForeignKey(NonPermanentResident, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(
        Institution, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    number = models.CharField(_("letter number"), max_length=60, unique=True)
    year = models.PositiveIntegerField()
    sequence = models.PositiveIntegerField()
    # The public verification page's key: secrets.token_urlsafe(32), never the number.
    token = models.CharField(max_length=64, unique=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(
        _("status"), max_length=12, choices=LetterStatus.choices, default=LetterStatus.ISSUED
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(upload_to=_letter_path, max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("SKTS letter")
        verbose_name_plural = _("SKTS letters")
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="skts_number_once"),
            models.CheckConstraint(
                name="skts_validity_ordered", condition=Q(valid_until__gte=models.F("valid_from"))
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="skts_status_until"),
            models.Index(fields=["resident", "status"], name="skts_resident"),
            models.Index(fields=["institution", "issued_at"], name="skts_institution"),
        ]

    def __str__(self) -> str:
        return self.number
