"""Hardening: officers (and every account that needs MFA) set their own password and enrol
TOTP through a single-use invitation link (token hashed at rest, expiring, used once), never
after signing in with a password someone else set."""

import datetime
import re

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citizens import invitations
from citizens.choices import AuditAction, Role
from citizens.exceptions import InvitationNotAllowed
from citizens.models import AccountInvitation, AuditEntry, User
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Sawah-Hijau-Bagelen-2026"
LINK = re.compile(r"https?://\S+/akun/undangan/[\w-]+/")


def _code(secret: str) -> str:
    counter = int(timezone.now().timestamp()) // 30
    return format_hotp_value(hotp_value(secret, counter))


def _link_from_mail() -> str:
    assert len(mail.outbox) == 1
    return LINK.search(mail.outbox[0].body).group(0)


def _path(link: str) -> str:
    return "/" + link.split("/", 3)[3]


@pytest.fixture
def invited_operator(system_admin, desa, django_capture_on_commit_callbacks):
    user = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_issue(actor=system_admin, user=user, base_url="https://p.test")
    return user, _path(_link_from_mail())


def _accept(client, path: str, *, code: str | None = None, password: str = NEW_PASSWORD):
    page = client.get(path)
    assert page.status_code == 200
    secret = page.context["secret"]
    return client.post(
        path,
        {"password1": password, "password2": password, "code": code or _code(secret)},
    ), secret


def test_officer_cannot_enrol_totp_when_signed_in_with_a_password_someone_else_set(
    client, officer_without_totp, verified_email
):
    verified_email(officer_without_totp)
    client.post(
        reverse("account_login"), {"login": officer_without_totp.email, "password": TEST_PASSWORD}
    )
    client.post(reverse("account_reauthenticate"), {"password": TEST_PASSWORD})
    response = client.get(reverse("mfa_activate_totp"))
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_required")
    response = client.post(reverse("mfa_activate_totp"), {"code": "123456"})
    assert response["Location"] == reverse("invitation_required")
    for url in (reverse("officer_home"), reverse("citizens:resident_list")):
        assert client.get(url)["Location"] == reverse("invitation_required")
    assert not Authenticator.objects.filter(user=officer_without_totp).exists()


def test_admin_created_officer_gets_an_invitation_when_the_system_admin_adds_it(
    client, system_admin, desa, django_capture_on_commit_callbacks
):
    client.force_login(system_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:citizens_user_add"),
            {
                "email": "operator.baru@desa.test",
                "full_name": "Operator Baru",
                "role": Role.OPERATOR_DESA,
                "jurisdiction_desa": desa.pk,
            },
        )
    assert response.status_code == 302, response.content[:2000]
    user = User.objects.get(email="operator.baru@desa.test")
    assert not user.has_usable_password()
    link = _link_from_mail()
    assert mail.outbox[0].to == [user.email]
    token = link.rstrip("/").rsplit("/", 1)[1]
    invitation = AccountInvitation.objects.get(user=user)
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64
    assert invitation.created_by == system_admin
    assert AuditEntry.objects.filter(
        actor=system_admin, action=AuditAction.ACCOUNT_INVITE, reference=f"account:{user.pk}"
    ).exists()


def test_owner_sets_password_and_totp_when_using_the_invitation(client, invited_operator):
    user, path = invited_operator
    response, _secret = _accept(client, path)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_login")
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).count() == 1
    assert AccountInvitation.objects.get(user=user).used_at is not None
    assert AuditEntry.objects.filter(actor=user, action=AuditAction.ACCOUNT_SET_UP).exists()
    # Signing in now asks for the TOTP code.
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")


def test_invitation_link_is_refused_when_used_a_second_time(client, invited_operator):
    user, path = invited_operator
    _accept(client, path)
    assert client.get(path).status_code == 404
    response = client.post(
        path, {"password1": "Other-Password-2026", "password2": "Other-Password-2026"}
    )
    assert response.status_code == 404
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_invitation_link_is_refused_when_expired(client, invited_operator, settings):
    user, path = invited_operator
    later = timezone.now() + datetime.timedelta(hours=settings.ACCOUNT_INVITATION_HOURS, minutes=1)
    with time_machine.travel(later, tick=False):
        assert client.get(path).status_code == 404
    assert not user.invitations.filter(used_at__isnull=False).exists()


def test_wrong_code_or_short_password_changes_nothing_when_posted(client, invited_operator):
    user, path = invited_operator
    response, _secret = _accept(client, path, code="000000")
    assert response.status_code == 200
    response, _secret = _accept(client, path, password="pendek-11ch")
    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not Authenticator.objects.filter(user=user).exists()
    assert AccountInvitation.objects.get(user=user).used_at is None


def test_newer_invitation_ends_the_earlier_one_and_the_old_totp_when_issued(
    client, system_admin, invited_operator, django_capture_on_commit_callbacks
):
    user, old_path = invited_operator
    _accept(client, old_path)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_issue(actor=system_admin, user=user, base_url="https://p.test")
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not Authenticator.objects.filter(user=user).exists()
    new_path = _path(_link_from_mail())
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200


def test_invitation_is_refused_when_the_inviter_may_not_create_the_account(head, verifier, desa):
    operator = UserFactory(role=Role.OPERATOR_DESA, jurisdiction_desa=desa)
    for actor in (head, verifier):
        with pytest.raises(InvitationNotAllowed):
            invitations.invitation_issue(actor=actor, user=operator, base_url="https://p.test")
    assert not AccountInvitation.objects.exists()


def test_console_command_prints_the_link_when_the_first_admin_is_created(capsys):
    User.objects.create_superuser("admin@dukcapil.test", "a-console-password")
    call_command("account_invite", "admin@dukcapil.test", "--base-url", "https://p.test")
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("https://p.test/akun/undangan/")
    assert not User.objects.get(email="admin@dukcapil.test").has_usable_password()
