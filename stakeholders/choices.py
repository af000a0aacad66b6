from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    EDUCATION_OFFICE = "education", _("Education office")
    HEALTH_OFFICE = "health", _("Health office")
    RELIGIOUS_AFFAIRS_OFFICE = "religious", _("Religious affairs office")
    UNIVERSITY = "university", _("University")
    COMPANY = "company", _("Company")
    VILLAGE_GOVERNMENT = "village", _("Village government")
    STATISTICS_OFFICE = "statistics", _("Statistics office")


class AgreementKind(models.TextChoices):
    MOU = "mou", _("Memorandum of understanding (MoU)")
    PKS = "pks", _("Cooperation agreement (PKS)")


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    TERMINATED = "terminated", _("Terminated")


class ReadScope(models.TextChoices):
    """Whose records an institution may read (UU 27/2022 art. 16: only what its purpose needs)."""

    NONE = "none", _("Nobody")
    ROSTER = "roster", _("People on its applied rosters")
    AGE = "age", _("Residents within an age range")
    DESA = "desa", _("Residents of one village")
    REGENCY = "regency", _("All residents of the regency")


class WriteMode(models.TextChoices):
    NONE = "none", _("May not write")
    ADOPT = "adopt", _("Adopted directly")
    REVIEW = "review", _("Sent to the verification queue")


class UploadFormat(models.TextChoices):
    FIELD_UPDATE = "field_update", _("Field updates")
    ROSTER = "roster", _("Non-permanent roster")


class UploadStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    VALIDATING = "validating", _("Checking rows")
    PREVIEWED = "previewed", _("Checked: waiting for confirmation")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    REFUSED = "refused", _("Refused")
    CANCELLED = "cancelled", _("Cancelled")


class RowOutcome(models.TextChoices):
    NEW = "new", _("New")
    CHANGED = "changed", _("Changed")
    UNCHANGED = "unchanged", _("Unchanged")
    OLDER = "older", _("Older than the registry: ignored")
    REVIEW = "review", _("Sent to review")
    ERROR = "error", _("Error")
