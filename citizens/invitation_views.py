"""The invitation page (the owner's own password and TOTP) and the page an account that
needs MFA sees until it has used its invitation."""

import base64

from allauth.mfa.adapter import get_adapter
from allauth.mfa.totp.internal.auth import generate_totp_secret
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from citizens import crypto, invitations
from citizens.exceptions import InvitationInvalid
from citizens.invitation_forms import InvitationForm
from citizens.models import AccountInvitation


def _session_key(invitation: AccountInvitation) -> str:
    return f"invitation_totp_{invitation.pk}"


def _secret(request: HttpRequest, invitation: AccountInvitation) -> str:
    """The TOTP secret offered on this invitation's page, kept (encrypted) in the visitor's
    session until the code that proves it is posted."""
    stored = request.session.get(_session_key(invitation))
    if stored:
        return crypto.decrypt(stored)
    secret = generate_totp_secret()
    request.session[_session_key(invitation)] = crypto.encrypt(secret)
    return secret


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "citizens/invitation.html",
        {"invalid": str(InvitationInvalid.message)},
        status=404,
    )


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitations.invitation_for_token(token)
    if invitation is None:
        return _invalid(request)
    user = invitation.user
    needs_totp = invitations.needs_totp(user)
    secret = _secret(request, invitation) if needs_totp else ""
    form = InvitationForm(request.POST or None, user=user, needs_totp=needs_totp)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_accept(
                token=token,
                password=form.cleaned_data["password1"],
                totp_secret=secret,
                code=form.cleaned_data.get("code", ""),
            )
        except InvitationInvalid:
            return _invalid(request)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            request.session.pop(_session_key(invitation), None)
            messages.success(
                request,
                _("Your account is ready. Sign in with your new password and a code from your app.")
                if needs_totp
                else _("Your account is ready. Sign in with your new password."),
            )
            return redirect("account_login")
    context: dict[str, object] = {"form": form, "email": user.email, "needs_totp": needs_totp}
    if needs_totp:
        adapter = get_adapter()
        svg = adapter.build_totp_svg(adapter.build_totp_url(user, secret))
        context["secret"] = secret
        context["qr"] = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    return render(request, "citizens/invitation.html", context)


@require_GET
def invitation_required(request: HttpRequest) -> HttpResponse:
    return render(request, "citizens/invitation_required.html")
