"""Export downloads for institution admins in the browser (the API has its own views)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from citizens import policy
from citizens.reads import shows_personal_data
from stakeholders import exports, selectors
from stakeholders.models import Institution

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_filename(institution: Institution, extension: str) -> str:
    return f"penduduk-{institution.code}-{timezone.localdate():%Y%m%d}.{extension}"


def csv_response(institution: Institution) -> StreamingHttpResponse:
    """Raises exports.NothingToExport before any byte is sent."""
    response = StreamingHttpResponse(
        exports.export_csv(institution), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{export_filename(institution, "csv")}"'
    )
    response["Cache-Control"] = "no-store"
    return response


def xlsx_response(institution: Institution) -> FileResponse:
    response = FileResponse(
        exports.export_xlsx(institution),
        as_attachment=True,
        filename=export_filename(institution, "xlsx"),
        content_type=XLSX,
    )
    response["Cache-Control"] = "no-store"
    return response


def _institution(request: HttpRequest) -> Institution:
    institution = (
        selectors.institution_of(request.user)
        if policy.is_institution_admin(request.user)
        else None
    )
    if institution is None or not selectors.readable_fields(institution):
        raise PermissionDenied
    return institution


@shows_personal_data("an institution-read row per resident in the file (stakeholders.exports)")
@never_cache
@login_required
@require_GET
def export_csv(request: HttpRequest) -> HttpResponse:
    return csv_response(_institution(request))


@shows_personal_data("an institution-read row per resident in the file (stakeholders.exports)")
@never_cache
@login_required
@require_GET
def export_xlsx(request: HttpRequest) -> HttpResponse:
    return xlsx_response(_institution(request))
