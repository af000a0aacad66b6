"""Institution API keys: `Authorization: Bearer <key>` or `X-Api-Key: <key>`, looked up by
their SHA-256; refused when revoked, expired, or when the institution is inactive or has no
agreement in force. Throttled per key."""

import datetime

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from citizens.models import User
from stakeholders import keys, selectors
from stakeholders.api import errors
from stakeholders.models import ApiKey

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _presented_key(request: Request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip()


class ApiKeyAuthentication(BaseAuthentication):
    """request.user is the admin who issued the key; request.auth is the ApiKey."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        presented = _presented_key(request)
        if not presented:
            return None
        api_key = (
            ApiKey.objects.select_related("institution", "created_by")
            .filter(key_hash=keys.api_key_hash(presented))
            .first()
        )
        if api_key is None:
            raise errors.KeyInvalid()
        now = timezone.now()
        if api_key.revoked_at is not None:
            raise errors.KeyRevoked()
        if api_key.expires_at <= now:
            raise errors.KeyExpired()
        if not api_key.institution.is_active:
            raise errors.InstitutionInactive()
        if not selectors.agreement_in_force(api_key.institution):
            raise errors.NoAgreement()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        return api_key.created_by, api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Requests per API key (settings.API_KEY_RATE, e.g. "600/min"); requests without a
    valid key are counted per client address."""

    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_KEY_RATE)

    def get_cache_key(self, request: Request, view: object) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        else:
            ident = f"addr-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ApiKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "stakeholders.api.authentication.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "Institution API key"}
