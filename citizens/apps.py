from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CitizensConfig(AppConfig):
    name = "citizens"
    verbose_name = _("Population registry")

    def ready(self) -> None:
        # The sign-in receiver that starts an officer's idle timer.
        from citizens import middleware  # noqa: F401
