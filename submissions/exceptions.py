from django.utils.translation import gettext_lazy as _


class SubmissionError(Exception):
    """Base of the submission domain errors; `message` is safe to show to the user."""

    message: object = _("This submission could not be saved.")

    def __init__(self, message: object = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(str(self.message))


class InvalidTransition(SubmissionError):
    message = _("This action is not possible in the submission's current status.")


class ConcurrentDecision(SubmissionError):
    message = _("Someone else changed this submission in the meantime. Reload the page.")


class NotAuthorised(SubmissionError):
    message = _("You may not act on this submission.")


class DuplicateOpenSubmission(SubmissionError):
    message = _(
        "There is already an open submission of this kind for this person "
        "(tracking code %(code)s). Finish or withdraw it first."
    )

    def __init__(self, existing_code: str) -> None:
        self.existing_code = existing_code
        super().__init__(self.message % {"code": existing_code})


class NothingChanged(SubmissionError):
    message = _("No value differs from the registry: there is nothing to submit.")


class InvalidEvidence(SubmissionError):
    message = _("The evidence file was refused.")
    too_many = _("At most 5 evidence files may be attached.")
