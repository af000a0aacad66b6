from django.apps import AppConfig


class StakeholdersConfig(AppConfig):
    name = "stakeholders"

    def ready(self) -> None:
        from citizens.signals import account_deactivated
        from stakeholders import receivers

        account_deactivated.connect(
            receivers.on_account_deactivated, dispatch_uid="stakeholders.suspend_keys"
        )
