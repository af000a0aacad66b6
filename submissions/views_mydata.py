"""The "check my data" page: the linked resident's own record, family, requests and access log."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from citizens import selectors as citizen_selectors
from citizens.choices import Registry
from citizens.models import User
from submissions import selectors
from submissions.choices import OPEN_STATUSES

PENDING_LIMIT = 50


@dataclass(frozen=True)
class PendingSubmission:
    kind: str
    status: str
    created_at: datetime.datetime
    # Only for the account's own submissions: someone else's tracking code is theirs to share.
    tracking_code: str


def _pending(user: User, overview: citizen_selectors.RecordOverview) -> list[PendingSubmission]:
    # The three selectors OR'ed into one query: a third of the time of three.
    about = selectors.open_submissions_about(
        registry=overview.registry, record_ids=overview.member_ids
    )
    if overview.family_id:
        about |= selectors.open_submissions_about(
            registry=Registry.FAMILY, record_ids=[overview.family_id]
        )
    own = selectors.submissions_for_account(user).filter(status__in=OPEN_STATUSES)
    found = (
        (about | own)
        .select_related(None)
        .only("kind", "status", "created_at", "tracking_code", "filed_by_id", "citizen_id")
        .order_by("-created_at", "-pk")[:PENDING_LIMIT]
    )
    return [
        PendingSubmission(
            kind=submission.get_kind_display(),
            status=submission.get_status_display(),
            created_at=submission.created_at,
            tracking_code=submission.tracking_code
            if user.pk in (submission.filed_by_id, submission.citizen_id)
            else "",
        )
        for submission in found
    ]


@login_required
@never_cache
@require_GET
def my_data(request: HttpRequest) -> HttpResponse:
    """Only ever the linked person: there is no id in the URL to change. `?tampilkan=1` shows
    the full NIK and KK number; otherwise they are masked before they reach the template."""
    user = request.user
    if not isinstance(user, User):  # login_required has run; this narrows the type
        raise PermissionDenied
    link = citizen_selectors.resident_link_for_user(user)
    if link is None:
        messages.info(request, _("Link your account to your population record first."))
        return redirect("linking:link")
    reveal = request.GET.get("tampilkan") == "1"
    overview = citizen_selectors.my_record_overview(link.resident, reveal=reveal)
    return render(
        request,
        "submissions/my_data.html",
        {"overview": overview, "pending": _pending(user, overview)},
    )
