from django.utils.translation import gettext_lazy as _


class RegistryError(Exception):
    """Base of the registry's domain errors; `message` is safe to show to the user."""

    message = _("The registry could not save this change.")

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
