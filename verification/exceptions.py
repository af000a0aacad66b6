from django.utils.translation import gettext_lazy as _

from submissions.exceptions import SubmissionError


class ReviewError(SubmissionError):
    message = _("This review action could not be carried out.")


class NotYourTier(ReviewError):
    message = _(
        "This submission is not waiting at your tier or in your area. Tiers decide in order: "
        "an earlier tier must approve it first."
    )


class FourEyes(ReviewError):
    message = _(
        "You may not decide on this submission: you filed or assisted it, it concerns you, "
        "or you already decided on it at another tier."
    )


class AlreadyClaimed(ReviewError):
    message = _("%(officer)s is reviewing this submission until %(until)s.")

    def __init__(self, officer: str, until: str) -> None:
        super().__init__(self.message % {"officer": officer, "until": until})


class DecisionIncomplete(ReviewError):
    message = _("The decision is incomplete.")
    reason_required = _("Choose the reason for the rejection.")
    note_required = _("Write a note for the citizen.")


class ConflictNotConfirmed(ReviewError):
    message = _(
        "The registry changed after this submission was made. Confirm each conflicting "
        "element again before approving: %(fields)s."
    )

    def __init__(self, fields: list[str], labels: list[str]) -> None:
        self.fields = fields
        super().__init__(self.message % {"fields": ", ".join(labels)})


class MergeRefused(ReviewError):
    message = _("The change cannot be written to the registry.")


class RecordIncomplete(MergeRefused):
    message = _(
        "The registry needs these elements before this submission can be approved: "
        "%(fields)s. Return it to the citizen to complete them."
    )

    def __init__(self, fields: list[str], labels: list[str]) -> None:
        self.fields = fields
        super().__init__(self.message % {"fields": ", ".join(labels)})


class NikDisagrees(MergeRefused):
    message = _("The NIK does not belong to this person: %(problems)s Check the NIK and the data.")

    def __init__(self, problems: list[str]) -> None:
        super().__init__(self.message % {"problems": " ".join(problems)})
