"""Institution API v1: thin views that parse input, call one service or selector, and answer
JSON. Every view needs a valid API key (see authentication.py) and is throttled per key."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from citizens import selectors as registry_selectors
from citizens import services as registry_services
from citizens.choices import AccessPurpose, Registry
from citizens.models import PermanentResident
from citizens.nik import validate_nik
from citizens.reads import shows_personal_data
from stakeholders import export_views, feed, selectors, services
from stakeholders.api import errors
from stakeholders.api import serializers as s
from stakeholders.api.authentication import ApiKeyAuthentication, ApiKeyRateThrottle
from stakeholders.api.parsers import UniqueKeyJSONParser
from stakeholders.choices import UploadFormat
from stakeholders.models import ApiKey, ExchangeBatch, Institution, WebhookSubscription

_ERRORS = {
    code: OpenApiResponse(s.ErrorSerializer, description=description)
    for code, description in (
        (400, "Invalid request"),
        (401, "Missing, unknown, revoked or expired API key"),
        (403, "No agreement in force or no authority"),
        (404, "Not found"),
        (429, "Rate limit reached"),
    )
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: _ERRORS[code] for code in (401, 403, 429, *codes)}


class HasApiKey(BasePermission):
    def has_permission(self, request: Request, view: object) -> bool:
        return isinstance(request.auth, ApiKey)


class ApiView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyRateThrottle]
    renderer_classes = [JSONRenderer]
    parser_classes = [UniqueKeyJSONParser]

    def get_exception_handler(self) -> Any:
        return errors.api_exception_handler

    @property
    def institution(self) -> Institution:
        api_key = self.request.auth
        assert isinstance(api_key, ApiKey)
        return api_key.institution


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _batch_status(batch: ExchangeBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "format": batch.format,
        "status": batch.status,
        "refusal": batch.refusal,
        "rows_total": batch.rows_total,
        "rows_done": batch.rows_done,
        "counts": batch.counts,
        "created_at": batch.created_at,
        "applied_at": batch.applied_at,
        "rows": [
            {"line": line, "outcome": outcome, "errors": [e for e in errs.split("\n") if e]}
            for line, outcome, errs in batch.rows.order_by("line").values_list(
                "line", "outcome", "errors"
            )
        ],
    }


_IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A key of at most 80 characters, unique per batch: resending it returns the "
    "batch it created first.",
)


_FIELD_UPDATE_EXAMPLE = OpenApiExample(
    "Education level and school",
    request_only=True,
    value={
        "rows": [
            {
                "nik": "3306065705900001",
                "nama_lengkap": "SITI CONTOH",
                "tanggal_lahir": "1990-05-17",
                "pendidikan": "8",
                "sekolah": "SMA Negeri 1 Purworejo",
                "berlaku_sejak": "2026-07-01",
            }
        ]
    },
)
_ROSTER_EXAMPLE = OpenApiExample(
    "A student",
    request_only=True,
    value={
        "rows": [
            {
                "nik": "3404014504030001",
                "nama_lengkap": "MAHASISWA CONTOH",
                "tanggal_lahir": "2003-04-05",
                "jenis_kelamin": "P",
                "alamat_asal": "Jalan Asal 2, Kulon Progo",
                "kode_wilayah_asal": "3404012001",
                "alamat_domisili": "Asrama Blok C",
                "kode_desa_domisili": "3306062001",
                "tujuan": "studi",
                "tanggal_mulai": "2026-08-01",
                "tanggal_selesai": "2027-07-31",
                "tempat_lahir": "KULON PROGO",
                "agama": "1",
                "status_perkawinan": "1",
                "pendidikan": "5",
                "pekerjaan": "3",
                "rt_domisili": "002",
                "rw_domisili": "001",
            }
        ]
    },
)


class _BatchCreate(ApiView):
    format: UploadFormat

    def receive(self, request: Request) -> Response:
        from stakeholders.importing import batch_receive_rows

        key = request.headers.get("Idempotency-Key", "").strip()
        if not key or len(key) > 80:
            raise errors.IdempotencyKeyMissing()
        data = _valid(s.BatchRequestSerializer, request.data)
        batch = batch_receive_rows(
            institution=self.institution,
            user=request.user,
            format=self.format,
            rows=data["rows"],
            idempotency_key=key,
            via_api=True,
        )
        body = {"id": batch.pk, "format": batch.format, "status": batch.status}
        return Response(body, status=status.HTTP_202_ACCEPTED)


class FieldUpdateBatchCreate(_BatchCreate):
    format = UploadFormat.FIELD_UPDATE

    @extend_schema(
        operation_id="batches_create",
        summary="Submit a batch of NIK-keyed field updates",
        parameters=[_IDEMPOTENCY],
        examples=[_FIELD_UPDATE_EXAMPLE],
        request=s.BatchRequestSerializer,
        responses={202: s.BatchAcceptedSerializer, **_errors(400)},
    )
    def post(self, request: Request) -> Response:
        return self.receive(request)


class RosterBatchCreate(_BatchCreate):
    format = UploadFormat.ROSTER

    @extend_schema(
        operation_id="roster_batches_create",
        summary="Submit a roster of non-permanent residents",
        parameters=[_IDEMPOTENCY],
        examples=[_ROSTER_EXAMPLE],
        request=s.BatchRequestSerializer,
        responses={202: s.BatchAcceptedSerializer, **_errors(400)},
    )
    def post(self, request: Request) -> Response:
        return self.receive(request)


class BatchDetail(ApiView):
    @extend_schema(
        operation_id="batches_retrieve",
        summary="A batch's status with each row's outcome and errors",
        responses={200: s.BatchSerializer, **_errors(404)},
    )
    def get(self, request: Request, batch_id: int) -> Response:
        batch = ExchangeBatch.objects.filter(
            pk=batch_id, institution=self.institution, via_api=True
        ).first()
        if batch is None:
            raise errors.NotFound()
        return Response(_batch_status(batch))


@shows_personal_data("an institution-read row for the resident found")
class ResidentLookup(ApiView):
    @extend_schema(
        operation_id="residents_lookup",
        summary="Read a resident by NIK (the NIK goes in the body, never in the URL)",
        request=s.LookupRequestSerializer,
        responses={200: s.ResidentSerializer, **_errors(400, 404)},
        examples=[OpenApiExample("A NIK", request_only=True, value={"nik": "3306065705900001"})],
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.LookupRequestSerializer, request.data)
        try:
            nik = validate_nik(data["nik"])
        except DjangoValidationError as error:
            raise ValidationError({"nik": error.messages}) from None
        institution = self.institution
        if not selectors.readable_fields(institution):
            raise errors.NoReadAuthority()
        resident = registry_selectors.resident_get_by_nik(nik)
        values = feed.resident_read(institution, resident)
        if resident is None or not values:
            raise errors.ResidentNotFound()
        with transaction.atomic():
            registry_services.access_log_record(
                actor=None,
                registry=Registry.PERMANENT
                if isinstance(resident, PermanentResident)
                else Registry.NON_PERMANENT,
                record_id=resident.pk,
                purpose=AccessPurpose.INSTITUTION_READ,
                actor_label=institution.name,
                reason=str(_("API lookup")),
            )
        return Response({"data": values})


@shows_personal_data("an institution-read row for each person whose change is in the page")
class ChangeFeed(ApiView):
    @extend_schema(
        operation_id="changes_list",
        summary="Approved changes to the elements and residents you may read, after a cursor",
        parameters=[s.FeedQuerySerializer],
        responses={200: s.FeedSerializer, **_errors(400)},
    )
    def get(self, request: Request) -> Response:
        query = _valid(s.FeedQuerySerializer, request.query_params)
        page = feed.changes_after(self.institution, since=query["since"], limit=query["limit"])
        registry_services.access_log_reads(
            records=registry_selectors.records_of_changes(change.id for change in page.changes),
            purpose=AccessPurpose.INSTITUTION_READ,
            actor_label=self.institution.name,
            reason=str(_("API change feed")),
        )
        return Response(
            {
                "changes": [change.__dict__ for change in page.changes],
                "next_cursor": page.next_cursor,
            }
        )


def _webhook(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "is_active": subscription.is_active,
        "created_at": subscription.created_at,
    }


class WebhookList(ApiView):
    @extend_schema(
        operation_id="webhooks_list",
        summary="Your institution's webhook subscriptions",
        responses={200: s.WebhookSerializer(many=True), **_errors()},
    )
    def get(self, request: Request) -> Response:
        subscriptions = WebhookSubscription.objects.filter(institution=self.institution)
        return Response([_webhook(sub) for sub in subscriptions.order_by("pk")])

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe a URL to the change feed (the signing secret is shown once)",
        request=s.WebhookRequestSerializer,
        responses={201: s.WebhookCreatedSerializer, **_errors(400)},
    )
    def post(self, request: Request) -> Response:
        data = _valid(s.WebhookRequestSerializer, request.data)
        subscription, secret = services.webhook_subscription_create(
            institution=self.institution, user=request.user, url=data["url"]
        )
        return Response(
            {**_webhook(subscription), "secret": secret}, status=status.HTTP_201_CREATED
        )


class WebhookDetail(ApiView):
    def _get(self, webhook_id: int) -> WebhookSubscription:
        subscription = WebhookSubscription.objects.filter(
            pk=webhook_id, institution=self.institution
        ).first()
        if subscription is None:
            raise errors.NotFound()
        return subscription

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="One webhook subscription",
        responses={200: s.WebhookSerializer, **_errors(404)},
    )
    def get(self, request: Request, webhook_id: int) -> Response:
        return Response(_webhook(self._get(webhook_id)))

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Remove a webhook subscription",
        responses={204: None, **_errors(404)},
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        services.webhook_subscription_delete(subscription=self._get(webhook_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _Export(ApiView):
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # The file is not rendered by DRF; errors are JSON whatever the Accept header says.
        return super().perform_content_negotiation(request, force=True)

    def export(self) -> HttpResponseBase:
        if not selectors.readable_fields(self.institution):
            raise errors.NoReadAuthority()
        return self.respond(self.institution)

    def respond(self, institution: Institution) -> HttpResponseBase:
        raise NotImplementedError


@shows_personal_data("an institution-read row per resident in the file (stakeholders.exports)")
class ExportCsv(_Export):
    @extend_schema(
        operation_id="exports_residents_csv",
        summary="Every resident in your population, with the elements you may read, as CSV",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            **_errors(),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        return self.export()

    def respond(self, institution: Institution) -> HttpResponseBase:
        return export_views.csv_response(institution)


@shows_personal_data("an institution-read row per resident in the file (stakeholders.exports)")
class ExportXlsx(_Export):
    @extend_schema(
        operation_id="exports_residents_xlsx",
        summary="Every resident in your population, with the elements you may read, as XLSX",
        responses={
            (200, export_views.XLSX): OpenApiResponse(OpenApiTypes.BINARY),
            **_errors(),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        return self.export()

    def respond(self, institution: Institution) -> HttpResponseBase:
        return export_views.xlsx_response(institution)
