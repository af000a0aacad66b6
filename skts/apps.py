from django.apps import AppConfig


class SktsConfig(AppConfig):
    name = "skts"

    def ready(self) -> None:
        from skts import receivers
        from verification.signals import submission_approved

        submission_approved.connect(receivers.on_submission_approved, dispatch_uid="skts.letter")
