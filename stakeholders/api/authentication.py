"""Institution API keys: `Authorization: Bearer <key>` or `X-Api-Key: <key>`, looked up by
their SHA-256; refused when revoked, expired, suspended, held by an account that is no
longer an active admin of the institution, or when the institution is inactive or has no
agreement in force. Throttled per key."""

import datetime

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from citizens import policy
from citizens.models import User
from stakeholders import keys, selectors
from stakeholders.api import errors
from stakeholders.models import ApiKey, InstitutionMember

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def _presented_key(request: Request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.META.get("HTTP_X_API_KEY", "").strip()


class ApiKeyAuthentication(BaseAuthentication):
    """request.user is the admin who holds the key; request.auth is the ApiKey."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        presented = _presented_key(request)
        if not presented:
            return None
        api_key = (
            ApiKey.objects.select_related("institution", "owner")
            .annotate(
                owner_is_member=Exists(
                    InstitutionMember.objects.filter(
                        user=OuterRef("owner"), institution=OuterRef("institution"), is_active=True
                    )
                )
            )
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
        # The key lives only as long as its holder's right to act for the institution.
        if (
            api_key.suspended_at is not None
            or not api_key.owner_is_member
            or not policy.is_institution_admin(api_key.owner)
        ):
            raise errors.KeySuspended()
        if not api_key.institution.is_active:
            raise errors.InstitutionInactive()
        if not selectors.agreement_in_force(api_key.institution):
            raise errors.NoAgreement()
        if api_key.last_used_at is None or api_key.last_used_at < now - LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
        return api_key.owner, api_key

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
