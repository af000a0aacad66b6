"""Account invitations: the owner of a new officer, admin or institution-admin account sets
their own password and enrols TOTP through a single-use link, so nobody else ever signs in
with a password they chose for it.

- The token is 256 random bits, sent only by e-mail to the account's address; the table keeps
  its SHA-256. It expires after ACCOUNT_INVITATION_HOURS and is used once (a conditional
  update), and a newer invitation for the account ends the earlier ones.
- Issuing an invitation makes the account's password unusable and removes its authenticators
  (a lost phone, a role that now needs TOTP), which also ends its sessions.
- Until the owner has used it, an account that needs MFA opens no page but the account pages
  (citizens.middleware.RequireOfficerMFAMiddleware); TOTP cannot be enrolled after a
  password sign-in.
"""

import datetime
import hashlib
import secrets

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, validate_totp_code
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from citizens import policy
from citizens.choices import AuditAction
from citizens.exceptions import InvitationInvalid, InvitationNotAllowed
from citizens.models import AccountInvitation, User
from citizens.services import audit_record

TOKEN_BYTES = 32


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_url(*, base_url: str, token: str) -> str:
    return base_url.rstrip("/") + reverse("invitation_accept", args=[token])


@transaction.atomic
def invitation_issue(*, actor: User | None, user: User, base_url: str) -> str:
    """Issue a new invitation for `user` and e-mail its link after commit; returns the link.

    `actor` is the system admin or head who created the account, or None for the server's
    console (the `account_invite` command, for the first system admin). Earlier invitations
    end; the account's password and authenticators are removed until the owner sets theirs."""
    if actor is not None and not policy.can_invite_account(actor, user):
        raise InvitationNotAllowed
    now = timezone.now()
    AccountInvitation.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    Authenticator.objects.filter(user=user).delete()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    invitation = AccountInvitation.objects.create(
        user=user,
        token_hash=_hash(token),
        created_by=actor,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=settings.ACCOUNT_INVITATION_HOURS),
    )
    audit_record(
        actor=actor,
        action=AuditAction.ACCOUNT_INVITE,
        reference=f"account:{user.pk}",
        detail=f"invitation {invitation.pk}",
    )
    url = invitation_url(base_url=base_url, token=token)
    transaction.on_commit(lambda: _send_invitation(user.email, url))
    return url


def _send_invitation(email: str, url: str) -> None:
    with override(settings.LANGUAGE_CODE):
        subject = _("Set up your Purworejo population portal account")
        body = _(
            "An account was created for you on the Purworejo population portal.\n\n"
            "Open this link to choose your own password and turn on two-step verification "
            "(TOTP). It works once and expires in %(hours)d hours:\n\n%(url)s\n\n"
            "If you did not expect this e-mail, ignore it and tell Dukcapil."
        ) % {"hours": settings.ACCOUNT_INVITATION_HOURS, "url": url}
    send_mail(subject, body, None, [email])


def invitation_for_token(token: str) -> AccountInvitation | None:
    """The usable invitation behind a link: known, unused, unexpired, for an active account."""
    return (
        AccountInvitation.objects.select_related("user")
        .filter(
            token_hash=_hash(token),
            used_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
        )
        .first()
    )


def needs_totp(user: User) -> bool:
    return policy.requires_mfa(user)


@transaction.atomic
def invitation_accept(*, token: str, password: str, totp_secret: str, code: str) -> User:
    """Use the invitation once: set the owner's password, mark their address verified and
    enrol their TOTP (for accounts that need it) with a code from their app. Raises
    InvitationInvalid for a bad link, ValidationError for a weak password or a wrong code;
    nothing changes then."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise InvitationInvalid
    user = invitation.user
    validate_password(password, user)
    if needs_totp(user) and not validate_totp_code(totp_secret, code):
        raise ValidationError(_("The code does not match. Enter the code your app shows now."))
    used = AccountInvitation.objects.filter(
        pk=invitation.pk, used_at__isnull=True, expires_at__gt=timezone.now()
    ).update(used_at=timezone.now())
    if used != 1:
        raise InvitationInvalid
    user.set_password(password)
    user.save(update_fields=["password"])
    # The link reached the owner through this address: it is verified.
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    Authenticator.objects.filter(user=user).delete()
    if needs_totp(user):
        TOTP.activate(user, totp_secret)
    audit_record(
        actor=user,
        action=AuditAction.ACCOUNT_SET_UP,
        reference=f"account:{user.pk}",
        detail=f"invitation {invitation.pk}",
    )
    return user
