"""Domain errors of SKTS requests and letters; `message` is safe to show to the user.

They extend the review's errors, so the verification pages show a refusal raised while the
final approval issues the letter."""

from django.utils.translation import gettext_lazy as _

from submissions.exceptions import SubmissionError
from verification.exceptions import MergeRefused


class SktsError(SubmissionError):
    message = _("The temporary residence letter could not be requested.")


class NoCurrentStay(SktsError):
    message = _(
        "A letter needs a current non-permanent registration: a stay in a Purworejo village "
        "whose period has not ended."
    )


class MoveRequired(SktsError):
    message = _(
        "Your stay in Purworejo passes one year, so the letter cannot be renewed. File a move "
        "(pindah datang) to become a permanent resident instead."
    )


class InvalidHost(SktsError):
    message = _("Enter the name and the valid 16-digit NIK of the host or guarantor.")


class NotYourResident(SktsError):
    message = _("You may only request letters for yourself or your institution's residents.")


class LetterRefused(MergeRefused):
    message = _("The letter cannot be issued: the non-permanent registration has ended.")


class CannotRevoke(SktsError):
    message = _("Only a letter in force can be revoked, with a reason.")
