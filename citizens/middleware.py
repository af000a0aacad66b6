"""Officer and admin accounts without TOTP open no page but the account pages (they enrol it
through their invitation link only), and their sessions end after OFFICER_IDLE_TIMEOUT_MINUTES
without a request.

allauth offers MFA but does not require it; this closes that gap for the roles in
citizens.policy.MFA_ROLES.
"""

import datetime
from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from citizens import policy

# Pages an un-enrolled officer can still reach: login/logout, the invitation, language.
_ALLOWED_PREFIXES = ("/akun/", "/i18n/", "/sehat/", settings.STATIC_URL)


class RequireOfficerMFAMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if policy.requires_mfa(user):
            # TOTP is enrolled only through the account's invitation (citizens/invitations.py),
            # never after signing in with a password someone else may have set.
            if request.path == reverse("mfa_activate_totp"):
                return redirect("invitation_required")
            if not request.path.startswith(_ALLOWED_PREFIXES) and not _has_totp(request):
                return redirect("invitation_required")
        return self.get_response(request)


def _has_totp(request: HttpRequest) -> bool:
    # Not cached in the session: removing the authenticator must take effect at once.
    return Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists()


# Session keys: when the account was first seen signed in, and its last request (epoch seconds).
SESSION_STARTED = "_officer_started"
SESSION_LAST_ACTIVITY = "_officer_last_activity"
# The last activity is written at most once a minute, so a busy officer's requests do not each
# write the session row.
ACTIVITY_RESOLUTION_SECONDS = 60


class OfficerIdleTimeoutMiddleware:
    """Signs out an officer, admin or institution admin (policy.requires_mfa) whose session
    saw no request for OFFICER_IDLE_TIMEOUT_MINUTES, besides the absolute SESSION_COOKIE_AGE.

    Writing the last activity saves the session, and a saved session would run for another
    SESSION_COOKIE_AGE: the expiry is pinned to the first time the account was seen signed in,
    so the absolute limit stays absolute (and is checked here too).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if policy.requires_mfa(request.user):
            session = request.session
            now = int(timezone.now().timestamp())
            last = session.get(SESSION_LAST_ACTIVITY)
            if last is not None and (
                now - last > settings.OFFICER_IDLE_TIMEOUT_MINUTES * 60
                or now - session.get(SESSION_STARTED, now) > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                messages.info(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity.")
                    % {"minutes": settings.OFFICER_IDLE_TIMEOUT_MINUTES},
                )
                return redirect_to_login(request.get_full_path())
            if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
                note_activity(session, now=now)
        return self.get_response(request)


def note_activity(session: SessionBase, *, now: int) -> None:
    """Record a request of a signed-in officer (epoch seconds), pinning the session's expiry
    to SESSION_COOKIE_AGE after the first one."""
    started = session.setdefault(SESSION_STARTED, now)
    session[SESSION_LAST_ACTIVITY] = now
    session.set_expiry(
        datetime.datetime.fromtimestamp(started, tz=datetime.UTC)
        + datetime.timedelta(seconds=settings.SESSION_COOKIE_AGE)
    )


@receiver(user_logged_in)
def _signed_in(*, request: HttpRequest | None, user: object, **kwargs: object) -> None:
    # Started at sign-in, which saves the session anyway: the first page writes nothing.
    if request is not None and hasattr(request, "session") and policy.requires_mfa(user):  # type: ignore[arg-type]
        note_activity(request.session, now=int(timezone.now().timestamp()))
