"""Officer and admin accounts must enrol TOTP before any page but the account pages opens.

allauth offers MFA but does not require it; this closes that gap for the roles in
citizens.policy.MFA_ROLES.
"""

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from citizens import policy

# Pages an un-enrolled officer can still reach: login/logout, the MFA set-up itself, language.
_ALLOWED_PREFIXES = ("/akun/", "/i18n/", "/sehat/", settings.STATIC_URL)


class RequireOfficerMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            policy.requires_mfa(user)
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and not _has_totp(request)
        ):
            messages.warning(
                request,
                _("Officer accounts must turn on two-step verification (TOTP) before continuing."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _has_totp(request: HttpRequest) -> bool:
    # Not cached in the session: removing the authenticator must take effect at once.
    return Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()
