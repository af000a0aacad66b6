"""Officer pages of the review: queue, review and decision, F-1.06 download, dashboard and
audit search. Views parse input, call one selector or service and render; every URL with a
tracking code answers 404 unless the officer's jurisdiction covers the submission."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
)
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from citizens import policy
from citizens import services as registry
from citizens.choices import AccessPurpose, AuditAction, Registry
from citizens.models import User
from citizens.reads import shows_personal_data
from submissions import selectors as submission_selectors
from submissions.choices import Status, Tier
from submissions.exceptions import SubmissionError
from submissions.models import Submission
from verification import merge, selectors, services
from verification import monitoring as monitoring_selectors
from verification.choices import Outcome
from verification.forms import AuditSearchForm, DecisionForm, NikSearchForm, QueueFilterForm

PAGE_SIZE = 25
REVIEW = "verification:review"
QUEUE = "verification:queue"


def _officer(request: HttpRequest) -> User:
    if not policy.is_officer(request.user):
        raise PermissionDenied
    return request.user


ReviewView = Callable[..., HttpResponseBase]


def _review_view(*methods: str) -> Callable[[ReviewView], ReviewView]:
    """Login, officer role, then 404 unless the submission is in the officer's jurisdiction
    (whatever the method, so a code reveals nothing), then the method check."""

    def decorator(view: ReviewView) -> ReviewView:
        @login_required
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, code: str) -> HttpResponseBase:
            officer = _officer(request)
            submission = selectors.submission_for_review(officer=officer, tracking_code=code)
            if submission is None:
                raise Http404
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, officer, submission)

        return wrapper

    return decorator


@shows_personal_data("a list row for the person (or family) of each submission on the page")
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def queue(request: HttpRequest) -> HttpResponse:
    """Oldest first. Filters come by GET; a NIK only by POST, so it never lands in a URL."""
    officer = _officer(request)
    villages = selectors.villages_for(officer)
    filter_form = QueueFilterForm(request.GET or None, villages=villages)
    filters = filter_form.filters()
    nik_form = NikSearchForm(request.POST or None)
    if request.method == "POST" and nik_form.is_valid():
        filters = selectors.QueueFilters(**{**filters.__dict__, "nik_index": nik_form.nik_index})
    submissions = selectors.queue_for_officer(officer, filters)
    tier = policy.review_tier(officer)
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    registry.access_log_reads(
        records=submission_selectors.submission_records(shown),
        purpose=AccessPurpose.OFFICER_LIST,
        actor=officer,
    )
    return render(
        request,
        "verification/queue.html",
        {
            "page": page,
            "rows": selectors.queue_rows(officer=officer, submissions=shown),
            "counts": selectors.queue_counts(officer),
            "filter_form": filter_form,
            "nik_form": nik_form,
            "show_desa_filter": len(villages) > 1,
            "tier": Tier(tier).label if tier else "",
        },
    )


def _record_review_view(officer: User, submission: Submission, record: object) -> None:
    """The citizen sees the review on their own page; the audit trail has it either way."""
    nik_index = selectors.person_nik_index(submission, record)
    if record is not None and submission.subject_id is not None:
        registry.access_log_record(
            actor=officer,
            registry=Registry(submission.subject_registry),
            record_id=submission.subject_id,
            purpose=AccessPurpose.REVIEW,
            nik_index=nik_index,
            reference=submission.tracking_code,
        )
    else:
        registry.audit_record(
            actor=officer,
            action=AuditAction.REVIEW_VIEW,
            nik_index=nik_index,
            reference=submission.tracking_code,
        )


def _refusal(officer: User, submission: Submission) -> str:
    """Why this officer cannot decide now ("" when they can)."""
    try:
        services.review_authorise(officer=officer, submission=submission)
    except SubmissionError as exc:
        return str(exc.message)
    return ""


def _decision_form(
    submission: Submission, data: selectors.ReviewData | None = None, post: Any = None
) -> DecisionForm:
    conflicts = data.conflicts if data is not None else merge.conflicts(submission)
    labels = dict(selectors.kind_elements(submission))
    return DecisionForm(
        post,
        elements=selectors.kind_elements(submission),
        conflicts=[(name, labels.get(name, name)) for name in conflicts],
        needs_input=merge.needs_input(submission),
        final_tier=selectors.is_final_tier(submission),
    )


def _review_page(
    request: HttpRequest,
    officer: User,
    submission: Submission,
    form: DecisionForm | None = None,
) -> HttpResponse:
    data = selectors.review_data(submission=submission, officer=officer)
    _record_review_view(officer, submission, data.record)
    refusal = _refusal(officer, submission)
    if not refusal and form is None:
        form = _decision_form(submission, data)
    can_read_statement = policy.can_read_change_statements(officer)
    statement_ready = (
        can_read_statement
        and submission.status == Status.APPROVED
        and selectors.change_statement_for(submission) is not None
    )
    return render(
        request,
        "verification/review.html",
        {
            "submission": submission,
            "review": data,
            "form": form if not refusal else None,
            "refusal": refusal,
            "claim_is_mine": data.claim is not None and data.claim.officer_id == officer.pk,
            "claimed_by_other": data.claim is not None and data.claim.officer_id != officer.pk,
            "can_read_statement": can_read_statement,
            "statement_ready": statement_ready,
        },
    )


@shows_personal_data("a review row on the subject's record (and the audit trail)")
@_review_view("GET")
def review(request: HttpRequest, officer: User, submission: Submission) -> HttpResponse:
    return _review_page(request, officer, submission)


@_review_view("POST")
def claim(request: HttpRequest, officer: User, submission: Submission) -> HttpResponse:
    try:
        taken = services.submission_claim(submission=submission, officer=officer)
    except SubmissionError as exc:
        messages.error(request, str(exc.message))
    else:
        until = formats.time_format(timezone.localtime(taken.expires_at), "TIME_FORMAT")
        messages.success(
            request, _("You are reviewing this submission until %(until)s.") % {"until": until}
        )
    return redirect(REVIEW, code=submission.tracking_code)


@_review_view("POST")
def release(request: HttpRequest, officer: User, submission: Submission) -> HttpResponse:
    if services.submission_claim_release(submission=submission, officer=officer):
        messages.success(request, _("The submission is back in the queue for everyone."))
    return redirect(REVIEW, code=submission.tracking_code)


def _decided_message(submission: Submission, outcome: Outcome) -> str:
    if outcome == Outcome.REJECT:
        return _("%(code)s was rejected.") % {"code": submission.tracking_code}
    if outcome == Outcome.RETURN:
        return _("%(code)s was returned to the citizen for revision.") % {
            "code": submission.tracking_code
        }
    if submission.status == Status.APPROVED:
        return _(
            "%(code)s was approved and written to the registry. The F-1.06 change statement "
            "is being prepared."
        ) % {"code": submission.tracking_code}
    return _("%(code)s was approved and moves on to the %(tier)s tier.") % {
        "code": submission.tracking_code,
        "tier": submission.get_current_tier_display(),
    }


@_review_view("POST")
def decide(request: HttpRequest, officer: User, submission: Submission) -> HttpResponse:
    form = _decision_form(submission, post=request.POST)
    if not form.is_valid():
        return _review_page(request, officer, submission, form)
    decision = form.decision()
    try:
        decided = services.submission_decide(submission=submission, officer=officer, **decision)
    except SubmissionError as exc:
        messages.error(request, str(exc.message))
        return redirect(REVIEW, code=submission.tracking_code)
    messages.success(request, _decided_message(decided, decision["outcome"]))
    return redirect(QUEUE)


@shows_personal_data("an officer-view row on the merged record (and the audit trail)")
@_review_view("GET")
def statement(request: HttpRequest, officer: User, submission: Submission) -> FileResponse:
    """The F-1.06 PDF, for Dukcapil only, once the worker has rendered it."""
    if not policy.can_read_change_statements(officer):
        raise Http404
    document = selectors.change_statement_for(submission)
    if document is None:
        raise Http404
    registry.access_log_record(
        actor=officer,
        registry=Registry(document.merge.registry),
        record_id=document.merge.record_id,
        purpose=AccessPurpose.OFFICER_VIEW,
        nik_index=selectors.person_nik_index(submission, selectors.merged_record(document.merge)),
        reference=submission.tracking_code,
    )
    response = FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=f"F-1.06-{submission.tracking_code}.pdf",
        content_type="application/pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@never_cache
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    officer = _officer(request)
    return render(
        request, "verification/dashboard.html", {"dashboard": selectors.dashboard_for(officer)}
    )


@login_required
@never_cache
@require_GET
def monitoring(request: HttpRequest) -> HttpResponse:
    """Participation and service figures of the officer's area (last 90 days)."""
    officer = _officer(request)
    return render(
        request,
        "verification/monitoring.html",
        {
            "monitoring": monitoring_selectors.monitoring_for(officer),
            "can_view_exchanges": policy.can_view_exchanges(officer),
        },
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def audit(request: HttpRequest) -> HttpResponse:
    """The head of Dukcapil searches the audit trail. Officer and dates may come by GET; a
    NIK only by POST (one in a GET query is ignored), and POST results page by POST too."""
    viewer = _officer(request)
    if not policy.can_search_audit(viewer):
        raise PermissionDenied
    if request.method == "POST":
        data = request.POST.dict()
        page_number = request.POST.get("page")
    else:
        data = request.GET.dict()
        data.pop("nik", None)
        data.pop("page", None)
        page_number = request.GET.get("page")
    form = AuditSearchForm(data or None)
    if form.is_bound and not form.is_valid():
        entries = selectors.audit_entries_for(viewer).none()
    else:
        entries = selectors.audit_entries_for(viewer, **(form.search() if form.is_bound else {}))
    page = Paginator(entries, PAGE_SIZE).get_page(page_number)
    rows = [(entry, selectors.tier_label(entry.tier)) for entry in page.object_list]
    return render(
        request,
        "verification/audit.html",
        {"form": form, "page": page, "rows": rows, "by_post": request.method == "POST"},
    )
