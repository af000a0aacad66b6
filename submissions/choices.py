from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    BIODATA_CORRECTION = "biodata", _("Biodata correction")
    ADDRESS_CHANGE = "address", _("Change of address within Purworejo")
    BIRTH = "birth", _("Birth of a child")
    DEATH = "death", _("Death of a family member")
    MOVE_OUT = "move_out", _("Moving out of Purworejo")
    ARRIVAL = "arrival", _("Arrival from outside Purworejo")
    NON_PERMANENT = "non_permanent", _("Registration as a non-permanent resident")
    REPORT = "report", _("Report about missing or wrong data")
    INSTITUTION_UPDATE = "institution", _("Update from a partner institution")
    SKTS = "skts", _("Temporary residence letter (SKTS)")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    RETURNED = "returned", _("Returned for revision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_STATUSES = (Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.RETURNED)


class Tier(models.TextChoices):
    DESA = "desa", _("Village")
    KECAMATAN = "kecamatan", _("Kecamatan")
    DUKCAPIL = "dukcapil", _("Dukcapil")


class Channel(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    ASSISTED = "assisted", _("Assisted by a village operator")
    INSTITUTION_CSV = "institution_csv", _("Institution file upload")
    API = "api", _("Institution API")
    INSTITUTION_PORTAL = "institution_web", _("Institution admin on the portal")


# Tiers in the order they act: a route lists a subset of these, in this order.
TIER_ORDER = (Tier.DESA, Tier.KECAMATAN, Tier.DUKCAPIL)


class RejectReason(models.TextChoices):
    DOCUMENT_MISSING = "document_missing", _("The proving document is missing")
    DOCUMENT_INVALID = "document_invalid", _("The proving document is not valid or not legible")
    DATA_MISMATCH = "data_mismatch", _("The data do not match the documents")
    DUPLICATE = "duplicate", _("Duplicate of another submission")
    NOT_ELIGIBLE = "not_eligible", _("The change is not allowed for this person")
    OTHER = "other", pgettext_lazy("reject reason", "Other")
