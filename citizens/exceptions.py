from django.utils.translation import gettext_lazy as _


class RegistryError(Exception):
    """Base of the registry's domain errors; `message` is safe to show to the user."""

    message: object = _("The registry could not save this change.")

    def __init__(self, message: object = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class DuplicateNik(RegistryError):
    message = _("A resident with this NIK is already registered.")


class DuplicateKk(RegistryError):
    message = _("A family with this KK number is already registered.")


class ConcurrentChange(RegistryError):
    message = _("This record was changed by someone else in the meantime. Reload and try again.")


class UnknownField(RegistryError):
    message = _("This field cannot be changed here.")

    def __init__(self, fields: list[str]) -> None:
        self.fields = sorted(fields)
        super().__init__()


class LinkFailed(RegistryError):
    """One message for every mismatch: it never says which detail was wrong or if the NIK exists.

    `tries_left` is how many more failures the account, its address and the NIK tried may
    have before linking is locked or closed; it is counted alike for unknown NIKs.
    """

    message = _(
        "These details do not match the population register. Check them against your KTP and "
        "family card (KK) and try again, or ask your village office for help."
    )

    def __init__(self, message: object = None, *, tries_left: int | None = None) -> None:
        self.tries_left = tries_left
        super().__init__(message)


class LinkLocked(RegistryError):
    """Linking is paused for this account until `locked_until` (an aware datetime)."""

    message = _("Too many failed attempts. Try again later or ask your village office.")

    def __init__(self, locked_until: object, message: object = None) -> None:
        self.locked_until = locked_until
        super().__init__(message)


class LinkClosed(RegistryError):
    """Online linking of the NIK tried is closed after too many failures against it, from
    any accounts; only the village operator can link it in person. Said alike for unknown NIKs."""

    message = _(
        "Online linking of this record is closed after too many failed attempts. Visit your "
        "village office with your KTP and KK: the village operator can link your account in "
        "person."
    )


class AlreadyLinked(RegistryError):
    message = _("This record is linked to another account: ask your village office.")


class AccountAlreadyLinked(RegistryError):
    message = _("Your account is already linked to a resident record.")


class LinkNotAllowed(RegistryError):
    message = _("Only the village operator of the resident's village can confirm this link.")


class InvitationInvalid(RegistryError):
    """One message for an unknown, used, replaced or expired invitation link."""

    message = _(
        "This invitation link is no longer valid: it was used, replaced by a newer one or has "
        "expired. Ask the person who created your account for a new invitation."
    )


class InvitationNotAllowed(RegistryError):
    message = _("You may not invite this account.")
