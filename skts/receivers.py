"""skts listens to the review's approval event; verification never imports skts."""

from typing import Any

from submissions.choices import Kind
from submissions.models import Submission


def on_submission_approved(
    sender: object, *, submission: Submission, officer: Any, **kwargs: object
) -> None:
    if submission.kind != Kind.SKTS:
        return
    from skts.services import letter_issue

    letter_issue(submission=submission, officer=officer)
