"""Statistics pages for officers (their area) and data analysts (the regency, suppressed)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from citizens import policy, quality, statistics
from citizens.spreadsheet import csv_writer


def _number(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@login_required
@require_GET
def statistics_page(request: HttpRequest, page: str = "population") -> HttpResponse:
    if not policy.can_view_statistics(request.user):
        raise PermissionDenied
    if page not in statistics.PAGES:
        raise Http404
    raw_kecamatan, raw_desa = request.GET.get("kecamatan", ""), request.GET.get("desa", "")
    kecamatan_id, desa_id = _number(raw_kecamatan), _number(raw_desa)
    if (raw_kecamatan and kecamatan_id is None) or (raw_desa and desa_id is None):
        raise Http404
    try:
        scope = statistics.scope_for(request.user, kecamatan_id=kecamatan_id, desa_id=desa_id)
    except LookupError:
        raise Http404 from None
    title, build = statistics.PAGES[page]
    download = request.GET.get("unduh")
    if download:
        # Downloads leave the portal: small counts are suppressed for every reader.
        tables = {table.name: table for table in build(scope, suppress=True)}
        if download not in tables:
            raise Http404
        return _csv(tables[download], scope)
    kecamatan_list, villages = statistics.filter_choices(request.user)
    return render(
        request,
        "citizens/statistics.html",
        {
            "pages": [(name, label) for name, (label, _build) in statistics.PAGES.items()],
            "page": page,
            "title": title,
            "tables": build(scope),
            "scope": scope,
            "hidden_mark": statistics.HIDDEN,
            "kecamatan_list": kecamatan_list,
            "villages": villages,
            "kecamatan_id": kecamatan_id,
            "desa_id": desa_id,
            "computed_at": statistics.computed_at(),
            "query": request.GET.urlencode(),
        },
    )


def _hidden_note(scope: statistics.Scope) -> str:
    return _(
        "Counts under %(threshold)s are hidden (%(mark)s), and so are some larger counts "
        "from which a hidden one could be worked out."
    ) % {"threshold": scope.threshold, "mark": statistics.HIDDEN}


def _csv(table: statistics.Table, scope: statistics.Scope) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statistik-{table.name}.csv"'
    response.write("\ufeff")
    writer = csv_writer(response)
    writer.writerow([_("Category"), *(str(column) for column in table.columns)])
    for row in table.rows:
        writer.writerow(
            [
                row.label,
                *(statistics.HIDDEN if v is None else v for v in row.values),
            ]
        )
    if scope.label:
        writer.writerow([_("Area: %(area)s") % {"area": scope.label}])
    if any(v is None for row in table.rows for v in row.values):
        writer.writerow([_hidden_note(scope)])
    return response


@login_required
@require_GET
def quality_page(request: HttpRequest) -> HttpResponse:
    """Findings of the last data-quality check in the officer's area, one rule at a time."""
    if not policy.is_officer(request.user):
        raise PermissionDenied
    rule = request.GET.get("aturan", "missing")
    if rule not in quality.RULES:
        raise Http404
    findings = Paginator(quality.findings_for(request.user, rule=rule), 50)
    return render(
        request,
        "citizens/quality.html",
        {
            "rules": [
                (name, label, count)
                for (name, label), count in zip(
                    quality.RULES.items(), quality.counts_for(request.user).values(), strict=True
                )
            ],
            "rule": rule,
            "page": (page := findings.get_page(request.GET.get("page"))),
            "rows": [(finding, quality.describe(finding)) for finding in page],
            "checked_at": quality.checked_at(),
        },
    )
