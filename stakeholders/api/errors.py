"""Every API error as JSON with a stable machine code and a message in the reader's language
(Indonesian by default): `{"code": "...", "message": "...", ...}`."""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from stakeholders.exceptions import NotAuthorised, StakeholderError

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An API error with its own stable code; subclasses set status, code and message."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "error"
    default_detail = _("The request could not be processed.")


class KeyMissing(exceptions.NotAuthenticated):
    default_code = "key_missing"
    default_detail = _(
        "An API key is required: send it as 'Authorization: Bearer <key>' or 'X-Api-Key'."
    )


class KeyInvalid(exceptions.AuthenticationFailed):
    default_code = "key_invalid"
    default_detail = _("This API key is not valid.")


class KeyRevoked(exceptions.AuthenticationFailed):
    default_code = "key_revoked"
    default_detail = _("This API key was revoked.")


class KeyExpired(exceptions.AuthenticationFailed):
    default_code = "key_expired"
    default_detail = _("This API key has expired. Ask your institution admin for a new key.")


class KeySuspended(exceptions.AuthenticationFailed):
    default_code = "key_suspended"
    default_detail = _(
        "This API key is suspended: the admin who holds it no longer acts for your "
        "institution. Another admin of your institution or Dukcapil can hand it over, or "
        "issue a new key."
    )


class InstitutionInactive(exceptions.PermissionDenied):
    default_code = "institution_inactive"
    default_detail = _("Your institution is not active for data exchange.")


class NoAgreement(exceptions.PermissionDenied):
    default_code = "no_agreement"
    default_detail = _(
        "Your institution has no MoU and cooperation agreement (PKS) in force: data exchange "
        "is stopped. Contact Dukcapil to renew the agreement."
    )


class NoReadAuthority(exceptions.PermissionDenied):
    default_code = "no_read_authority"
    default_detail = _("Your institution may not read any data element.")


class NoStatisticsAuthority(exceptions.PermissionDenied):
    default_code = "no_statistics_authority"
    default_detail = _("Your institution may not read the statistics.")


class UnknownArea(exceptions.NotFound):
    default_code = "unknown_area"
    default_detail = _("No kecamatan or village of Purworejo has this code.")


class ResidentNotFound(exceptions.NotFound):
    default_code = "resident_not_found"
    default_detail = _("No resident with this NIK is within your institution's reach.")


class NotFound(exceptions.NotFound):
    default_code = "not_found"
    default_detail = _("Not found.")


class IdempotencyKeyMissing(ApiError):
    default_code = "idempotency_key_missing"
    default_detail = _("The 'Idempotency-Key' header is required (at most 80 characters).")


class DuplicateKeys(ApiError):
    # The code a file with a repeated column gets (stakeholders.parsing.check_header).
    default_code = "duplicate_columns"
    default_detail = _(
        "A JSON object names these keys more than once: %(keys)s. Send each key once: "
        "nothing was done."
    )


_CODES: dict[type[exceptions.APIException], tuple[str, object]] = {
    exceptions.NotAuthenticated: ("key_missing", KeyMissing.default_detail),
    exceptions.AuthenticationFailed: ("key_invalid", KeyInvalid.default_detail),
    exceptions.PermissionDenied: ("forbidden", _("You may not do this.")),
    exceptions.NotFound: ("not_found", NotFound.default_detail),
    exceptions.MethodNotAllowed: ("method_not_allowed", _("This method is not allowed here.")),
    exceptions.NotAcceptable: ("not_acceptable", _("This response format is not available.")),
    exceptions.UnsupportedMediaType: (
        "unsupported_media_type",
        _("Send the request body as JSON (Content-Type: application/json)."),
    ),
    exceptions.ParseError: ("malformed_request", _("The request body is not valid JSON.")),
    exceptions.Throttled: (
        "rate_limited",
        _("Too many requests with this API key. Wait and try again."),
    ),
    exceptions.ValidationError: ("invalid", _("Some fields of the request are not valid.")),
}


def _code_and_message(exc: exceptions.APIException) -> tuple[str, str]:
    # A subclass of ours carries its own code and message; DRF's own classes get ours.
    if type(exc).__module__ == __name__:
        return str(exc.default_code), str(exc.detail)
    for klass in type(exc).__mro__:
        if klass in _CODES:
            code, message = _CODES[klass]
            return code, str(message)
    return "error", str(ApiError.default_detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's handler (status, WWW-Authenticate and Retry-After headers) with our body."""
    if isinstance(exc, StakeholderError):
        exc = _from_domain(exc)
    elif isinstance(exc, Http404):
        exc = NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("Unexpected API error", exc_info=exc)
        return Response(
            {"code": "server_error", "message": str(_("Something went wrong on our side."))},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    code, message = _code_and_message(exc)
    body: dict[str, Any] = {"code": code, "message": message}
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = exc.detail
    if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
        body["retry_after"] = int(exc.wait + 0.999)
    response.data = body
    return response


def _from_domain(exc: StakeholderError) -> exceptions.APIException:
    """A domain error (e.g. the importer's ExchangeRefused with its stable code) as a 4xx."""
    error = ApiError(detail=str(exc.message))
    if isinstance(exc, NotAuthorised):
        error.default_code = "forbidden"
    else:
        error.default_code = str(getattr(exc, "code", "refused"))
    if error.default_code in ("forbidden", "no_agreement", "not_member"):
        error.status_code = status.HTTP_403_FORBIDDEN
    return error
