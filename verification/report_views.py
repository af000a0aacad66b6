"""The head's list of scheduled reports and their files (kept outside the static root)."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from citizens import policy
from verification import reports
from verification.models import Report


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    if not policy.can_read_reports(request.user):
        raise Http404
    return render(request, "verification/reports.html", {"reports": reports.report_list()})


@login_required
@never_cache
@require_GET
def report_file(request: HttpRequest, report_id: int, fmt: str) -> FileResponse:
    if not policy.can_read_reports(request.user):
        raise Http404
    report = Report.objects.filter(pk=report_id).first()
    field = None if report is None else {"csv": report.csv_file, "pdf": report.pdf_file}.get(fmt)
    if report is None or not field:
        raise Http404
    return FileResponse(
        field.open("rb"),
        as_attachment=True,
        filename=f"{report.kind}-{report.period_start:%Y-%m-%d}.{fmt}",
        content_type="application/pdf" if fmt == "pdf" else "text/csv; charset=utf-8",
    )
