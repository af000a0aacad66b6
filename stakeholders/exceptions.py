from django.utils.translation import gettext_lazy as _


class StakeholderError(Exception):
    """Base of the stakeholder domain errors; `message` is safe to show to the user."""

    message: object = _("This change could not be saved.")

    def __init__(self, message: object = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class NotAuthorised(StakeholderError):
    message = _("You may not do this for this institution.")


class InvalidAuthority(StakeholderError):
    message = _("Only Dukcapil writes core identity (NIK, name, birth date).")


class InvalidTransition(StakeholderError):
    message = _("The agreement cannot move to this status.")


class ConcurrentChange(StakeholderError):
    message = _("This was changed by someone else in the meantime. Reload and try again.")


class AccountExists(StakeholderError):
    message = _("An account with this e-mail address already exists.")


class InvalidScope(StakeholderError):
    message = _("This agreement cannot name this population.")
