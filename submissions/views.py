"""The citizen portal's submission pages. Views parse input, call one service or selector and
render; every page that takes a tracking code asks selectors.submission_get_visible first and
answers 404 to anyone who may not see it, so no URL reveals whether a code exists."""

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
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from citizens import policy
from citizens.choices import AccessPurpose, Role
from citizens.models import User
from citizens.reads import shows_personal_data
from submissions import kinds, selectors, services
from submissions.choices import Channel, Kind, Status
from submissions.exceptions import DuplicateOpenSubmission, SubmissionError
from submissions.forms import BASIS_DATALIST, FORMS, ProposalForm, SubjectForm
from submissions.kinds import KindSpec, Subject
from submissions.models import Submission

PAGE_SIZE = 20
DETAIL = "submissions:detail"


def _account(request: HttpRequest) -> User:
    # login_required has run; this only narrows the type.
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _assisted(user: User) -> bool:
    """Village operators file on behalf of residents (assisted mode)."""
    return user.role == Role.OPERATOR_DESA


SubmissionView = Callable[..., HttpResponseBase]


def _submission_view(*methods: str) -> Callable[[SubmissionView], SubmissionView]:
    """For every URL with a tracking code: login first, then 404 unless the user may see the
    submission (whatever the HTTP method, so a code reveals nothing), then the method check.
    The view receives the submission instead of the code."""

    def decorator(view: SubmissionView) -> SubmissionView:
        @login_required
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, code: str, **kwargs: Any) -> HttpResponseBase:
            user = _account(request)
            submission = selectors.submission_get_visible(user=user, tracking_code=code)
            if submission is None:
                raise Http404
            if request.method not in methods:
                return HttpResponseNotAllowed(methods)
            return view(request, user, submission, **kwargs)

        return wrapper

    return decorator


def _error(request: HttpRequest, user: User, exc: SubmissionError) -> None:
    """A domain error as a message. A duplicate names the open submission only to those who
    may see it: someone else's tracking code is theirs to share."""
    if isinstance(exc, DuplicateOpenSubmission) and not selectors.submission_get_visible(
        user=user, tracking_code=exc.existing_code
    ):
        messages.error(
            request,
            _(
                "There is already an open submission of this kind for this person, filed by "
                "someone else. It must be decided or withdrawn first."
            ),
        )
        return
    messages.error(request, str(exc.message))


@login_required
@never_cache
@require_GET
def submission_list(request: HttpRequest) -> HttpResponse:
    user = _account(request)
    submissions = selectors.submissions_for_account(user).defer("description")
    page = Paginator(submissions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "submissions/list.html",
        {"page": page, "unread": selectors.notifications_unread_count(user)},
    )


@login_required
@require_GET
def kind_choose(request: HttpRequest) -> HttpResponse:
    assisted = _assisted(_account(request))
    return render(
        request,
        "submissions/choose.html",
        {"specs": kinds.specs_for(assisted=assisted), "assisted": assisted},
    )


def _subject_step(
    request: HttpRequest, user: User, spec: KindSpec, assisted: bool
) -> tuple[Subject | None, str, HttpResponse | None]:
    """Kinds about a registered person start by choosing them (by POST, never in a URL).

    Returns the subject and its NIK, or a response to send instead.
    """
    if spec.subject == kinds.SUBJECT_NONE or (
        spec.subject == kinds.SUBJECT_FAMILY and not assisted
    ):
        subject = kinds.own_subject(user, spec)
        if subject is None:
            messages.info(request, _("Link your account to your population record first."))
            return None, "", redirect("linking:link")
        return subject, "", None
    members = None
    if not assisted:
        family = selectors.family_members_for_filing(user=user)
        if family is None:
            messages.info(request, _("Link your account to your population record first."))
            return None, "", redirect("linking:link")
        members = kinds.subject_choices(spec, family)
        if not members:
            messages.info(
                request, _("This kind of submission is for members of a Purworejo family card.")
            )
            return None, "", redirect("submissions:choose")
    form = SubjectForm(request.POST if request.method == "POST" else None, members=members)
    if form.is_valid():
        nik = form.cleaned_data["subject_nik"]
        resident = selectors.filing_subject_get(
            user=user, nik=nik, assisted=assisted, permanent_only=spec.permanent_only
        )
        if resident is not None:
            return kinds.subject_of(resident), nik, None
        form.add_error(
            "subject_nik",
            _("No resident of your village has this NIK.")
            if assisted
            else _("This person is not on your family card."),
        )
    context = {"spec": spec, "form": form, "assisted": assisted}
    return None, "", render(request, "submissions/subject.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def submission_new(request: HttpRequest, kind: str) -> HttpResponse:
    user = _account(request)
    assisted = _assisted(user)
    spec = kinds.spec_get(kind)
    if spec is None or (assisted and not spec.assisted):
        raise Http404
    subject, subject_nik, response = _subject_step(request, user, spec, assisted)
    if response is not None or subject is None:
        return response or redirect("submissions:choose")
    filled = request.method == "POST" and request.POST.get("step") == "proposal"
    form = FORMS[spec.kind](
        request.POST if filled else None,
        request.FILES if filled else None,
        current=kinds.current_values(spec, subject),
        assisted=assisted,
    )
    if filled and form.is_valid():
        proposal = kinds.build(spec, user=user, subject=subject, cleaned=form.cleaned_data)
        try:
            submission = services.submission_file(
                actor=user,
                proposal=proposal,
                channel=Channel.ASSISTED if assisted else Channel.CITIZEN,
                consent_given=bool(form.cleaned_data.get("consent")),
                uploads=form.cleaned_data["evidence"],
            )
        except SubmissionError as exc:
            _error(request, user, exc)
        else:
            for warning in proposal.warnings:
                messages.warning(request, warning)
            messages.success(
                request,
                _("Saved as a draft with tracking code %(code)s. Check it and submit it.")
                % {"code": submission.tracking_code},
            )
            return redirect(DETAIL, code=submission.tracking_code)
    return _form_page(request, spec, form, subject=subject, subject_nik=subject_nik)


def _form_page(
    request: HttpRequest,
    spec: KindSpec,
    form: ProposalForm,
    *,
    subject: Subject,
    subject_nik: str = "",
    submission: Submission | None = None,
) -> HttpResponse:
    return render(
        request,
        "submissions/form.html",
        {
            "spec": spec,
            "form": form,
            "subject": subject,
            "subject_nik": subject_nik,
            "submission": submission,
            "datalist_id": BASIS_DATALIST,
        },
    )


@shows_personal_data("an officer's view: a review row on the subject's (or family's) record")
@_submission_view("GET")
def submission_detail(request: HttpRequest, user: User, submission: Submission) -> HttpResponse:
    """The timeline: every status with its tier, date and officer note."""
    services.submission_read_log(reader=user, submission=submission, purpose=AccessPurpose.REVIEW)
    return render(
        request,
        "submissions/detail.html",
        {
            "submission": submission,
            "items": kinds.items_for_display(submission),
            "evidence": selectors.submission_evidence(submission),
            "timeline": selectors.timeline_for_display(submission=submission, viewer=user),
            "actions": selectors.submission_actions(user=user, submission=submission),
            "is_officer": policy.is_officer(user),
            "returned": submission.status == Status.RETURNED,
            "returned_labels": [
                kinds.FIELD_LABELS.get(name, name) for name in submission.returned_fields
            ],
        },
    )


@shows_personal_data("an operator's view of the form: a review row on the subject's record")
@_submission_view("GET", "POST")
def submission_edit(request: HttpRequest, user: User, submission: Submission) -> HttpResponse:
    """Edit a draft or a returned submission: the proposal is rebuilt against today's record."""
    if not selectors.submission_actions(user=user, submission=submission).edit:
        messages.error(request, _("This submission cannot be changed any more."))
        return redirect(DETAIL, code=submission.tracking_code)
    if request.method == "GET":
        services.submission_read_log(
            reader=user, submission=submission, purpose=AccessPurpose.REVIEW
        )
    spec = kinds.SPECS[Kind(submission.kind)]
    resident, family = selectors.submission_subject_records(submission)
    subject = Subject(resident=resident, family=family)
    proposed, proposed_basis = kinds.proposed_values(submission)
    form = FORMS[spec.kind](
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        current=kinds.current_values(spec, subject),
        proposed=proposed,
        proposed_basis=proposed_basis,
        initial={"whole_family": submission.whole_family, "description": submission.description},
        evidence_count=selectors.submission_evidence(submission).count(),
    )
    if request.method == "POST" and form.is_valid():
        proposal = kinds.build(spec, user=user, subject=subject, cleaned=form.cleaned_data)
        try:
            services.submission_revise(
                submission=submission,
                actor=user,
                proposal=proposal,
                uploads=form.cleaned_data["evidence"],
            )
        except SubmissionError as exc:
            _error(request, user, exc)
        else:
            messages.success(request, _("Your changes were saved."))
            return redirect(DETAIL, code=submission.tracking_code)
    return _form_page(request, spec, form, subject=subject, submission=submission)


@_submission_view("POST")
def submission_submit(request: HttpRequest, user: User, submission: Submission) -> HttpResponse:
    try:
        services.submission_submit(submission=submission, actor=user)
    except SubmissionError as exc:
        _error(request, user, exc)
    else:
        messages.success(request, _("Submitted. Your village will review it."))
    return redirect(DETAIL, code=submission.tracking_code)


@_submission_view("POST")
def submission_withdraw(request: HttpRequest, user: User, submission: Submission) -> HttpResponse:
    try:
        services.submission_withdraw(submission=submission, actor=user)
    except SubmissionError as exc:
        _error(request, user, exc)
    else:
        messages.success(request, _("The submission was withdrawn."))
    return redirect(DETAIL, code=submission.tracking_code)


@shows_personal_data("an officer's download: an evidence row on the subject's record")
@_submission_view("GET")
def evidence_download(
    request: HttpRequest, user: User, submission: Submission, evidence_id: int
) -> FileResponse:
    """Always a download, never rendered inline, under a name that reveals nothing."""
    evidence = selectors.submission_evidence_get(submission=submission, evidence_id=evidence_id)
    if evidence is None:
        raise Http404
    services.submission_read_log(reader=user, submission=submission, purpose=AccessPurpose.EVIDENCE)
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=f"{submission.tracking_code}-{evidence.pk}{evidence.extension}",
        content_type=evidence.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@_submission_view("POST")
def evidence_remove(
    request: HttpRequest, user: User, submission: Submission, evidence_id: int
) -> HttpResponse:
    evidence = selectors.submission_evidence_get(submission=submission, evidence_id=evidence_id)
    if evidence is None:
        raise Http404
    try:
        services.evidence_remove(submission=submission, actor=user, evidence=evidence)
    except SubmissionError as exc:
        _error(request, user, exc)
    else:
        messages.success(request, _("The file was removed."))
    return redirect(DETAIL, code=submission.tracking_code)


@login_required
@never_cache
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    """The account's notifications, newest first; the ones shown are then marked read."""
    user = _account(request)
    page = Paginator(selectors.notifications_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    notifications = list(page.object_list)
    services.notifications_mark_read(user=user, ids=[n.pk for n in notifications])
    return render(
        request,
        "submissions/notifications.html",
        {"page": page, "notifications": notifications},
    )
