from django.db import models
from django.utils.translation import gettext_lazy as _


class LetterStatus(models.TextChoices):
    """What is stored; expiry is read from the dates (see selectors.letter_state)."""

    ISSUED = "issued", _("Issued")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded by a renewal")
    ENDED = "ended", _("Ended: the stay ended")


class LetterState(models.TextChoices):
    """What the verification page and the register show."""

    PENDING = "pending", _("Being prepared")
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded by a renewal")
    ENDED = "ended", _("Ended: the stay ended")
