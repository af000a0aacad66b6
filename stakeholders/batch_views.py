"""Institution admins' upload pages: upload, list, preview with progress, row-error CSV,
confirm and cancel. Dukcapil officers (regency-wide roles) may view every institution's
batches but only an institution's own admin acts on them."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citizens.models import User
from citizens.reads import shows_personal_data
from citizens.spreadsheet import csv_writer
from stakeholders import batch_selectors, catalogue, importing
from stakeholders.choices import RowOutcome, UploadFormat, UploadStatus
from stakeholders.models import ExchangeBatch

PAGE_SIZE = 25
REFRESH_SECONDS = 3
_BUSY = (UploadStatus.RECEIVED, UploadStatus.VALIDATING, UploadStatus.APPLYING)


class UploadForm(forms.Form):
    format = forms.ChoiceField(label=_("Format"), choices=UploadFormat.choices)
    file = forms.FileField(
        label=_("File (CSV or XLSX, at most 50 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )


def _account(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _batch(request: HttpRequest, batch_id: int) -> ExchangeBatch:
    batch = batch_selectors.batch_get_for(_account(request), batch_id)
    if batch is None:
        raise Http404
    return batch


@login_required
@never_cache
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    user = _account(request)
    institution = batch_selectors.acting_institution(user)
    if institution is None and not batch_selectors.is_dukcapil(user):
        raise PermissionDenied
    page = Paginator(batch_selectors.batches_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "stakeholders/batch_list.html",
        {"page": page, "institution": institution, "dukcapil": institution is None},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def batch_upload(request: HttpRequest) -> HttpResponse:
    user = _account(request)
    institution = batch_selectors.acting_institution(user)
    if institution is None:
        raise PermissionDenied
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = importing.batch_receive_file(
                institution=institution,
                user=user,
                upload=form.cleaned_data["file"],
                format=UploadFormat(form.cleaned_data["format"]),
            )
        except importing.ExchangeRefused as exc:
            form.add_error(None, str(exc.message))
        else:
            return redirect("stakeholders:batch_detail", batch_id=batch.pk)
    return render(
        request, "stakeholders/batch_upload.html", {"form": form, "institution": institution}
    )


def _summary_rows(batch: ExchangeBatch) -> list[dict[str, Any]]:
    rows = []
    for name, counts in sorted(batch.field_summary.items()):
        element = catalogue.BY_FIELD.get(name)
        rows.append(
            {
                "label": element.label if element else name,
                "column": element.column if element else name,
                "counts": [counts.get(outcome, 0) for outcome in _COLUMNS],
            }
        )
    return rows


_COLUMNS = (
    RowOutcome.NEW,
    RowOutcome.CHANGED,
    RowOutcome.UNCHANGED,
    RowOutcome.OLDER,
    RowOutcome.REVIEW,
)


@login_required
@never_cache
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    user = _account(request)
    batch = _batch(request, batch_id)
    own = batch_selectors.acting_institution(user) == batch.institution
    waiting = batch.status == UploadStatus.PREVIEWED and batch.confirmed_at is not None
    return render(
        request,
        "stakeholders/batch_detail.html",
        {
            "batch": batch,
            "busy": batch.status in _BUSY or waiting,
            "refresh": REFRESH_SECONDS,
            "can_act": own
            and batch.status == UploadStatus.PREVIEWED
            and batch.confirmed_at is None,
            "can_cancel": own
            and batch.status in (UploadStatus.RECEIVED, UploadStatus.PREVIEWED)
            and batch.confirmed_at is None,
            "counts": [
                (RowOutcome(outcome).label, batch.counts.get(outcome, 0))
                for outcome in (*_COLUMNS, RowOutcome.ERROR)
            ],
            "outcome_labels": [RowOutcome(outcome).label for outcome in _COLUMNS],
            "summary": _summary_rows(batch),
            "errors": batch.counts.get(RowOutcome.ERROR, 0),
        },
    )


@shows_personal_data("a row for each registry record whose NIK is in the error CSV")
@login_required
@never_cache
@require_GET
def batch_errors(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The row errors as CSV, always a download; cells neutralised against formulas."""
    batch = _batch(request, batch_id)
    importing.batch_errors_read_record(batch=batch, user=_account(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kesalahan-batch-{batch.pk}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response.write("\ufeff")  # so spreadsheets open it as UTF-8
    csv_writer(response).writerows(importing.batch_error_csv(batch))
    return response


@login_required
@require_POST
def batch_confirm(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        importing.batch_confirm(batch=batch, user=_account(request))
    except importing.ExchangeRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Confirmed: the batch is being applied."))
    return redirect("stakeholders:batch_detail", batch_id=batch.pk)


@login_required
@require_POST
def batch_cancel(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    try:
        importing.batch_cancel(batch=batch, user=_account(request))
    except importing.ExchangeRefused as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The batch was cancelled: nothing of it is applied."))
    return redirect("stakeholders:batch_detail", batch_id=batch.pk)
