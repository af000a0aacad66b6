"""The analyst API: the statistics pages' tables as JSON, always with small counts hidden,
for institutions whose authority includes reading statistics."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from citizens import statistics
from stakeholders import selectors
from stakeholders.api import errors
from stakeholders.api.views import ApiView, _errors


def _table(table: statistics.Table) -> dict[str, Any]:
    return {
        "name": table.name,
        "title": str(table.title),
        "columns": [str(column) for column in table.columns],
        "rows": [{"label": row.label, "values": list(row.values)} for row in table.rows],
        "note": str(table.note),
    }


class Statistics(ApiView):
    @extend_schema(
        operation_id="statistics_read",
        summary="A statistics page's tables; counts under the threshold are null",
        parameters=[
            OpenApiParameter(
                "page",
                OpenApiTypes.STR,
                OpenApiParameter.PATH,
                enum=list(statistics.PAGES),
            ),
            OpenApiParameter("kode_kecamatan", OpenApiTypes.STR, required=False),
            OpenApiParameter("kode_desa", OpenApiTypes.STR, required=False),
        ],
        responses={200: OpenApiTypes.OBJECT, **_errors(404)},
    )
    def get(self, request: Request, page: str) -> Response:
        if not selectors.may_read_statistics(self.institution):
            raise errors.NoStatisticsAuthority()
        if page not in statistics.PAGES:
            raise errors.NotFound()
        try:
            scope = statistics.scope_published(
                kecamatan_code=request.query_params.get("kode_kecamatan", "").strip()[:12],
                desa_code=request.query_params.get("kode_desa", "").strip()[:12],
            )
        except LookupError:
            raise errors.UnknownArea() from None
        _title, build = statistics.PAGES[page]
        computed = statistics.computed_at()
        return Response(
            {
                "page": page,
                "area": scope.label,
                "suppression_threshold": scope.threshold,
                "computed_at": computed.isoformat() if computed else None,
                "tables": [_table(table) for table in build(scope, suppress=True)],
            }
        )
