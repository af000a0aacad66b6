"""Hardening: /admin/ opens only for accounts that policy.can_use_admin allows, whatever
is_staff or is_superuser say."""

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from citizens.choices import Role
from tests.factories import UserFactory

ADMIN_URLS = [
    "admin:index",
    "admin:citizens_user_changelist",
    "admin:submissions_submission_changelist",
]


def _staff(role: Role, **extra):
    user = UserFactory(role=role, is_staff=True, **extra)
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.HEAD, Role.VERIFIER, Role.INSTITUTION_ADMIN])
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_refuses_staff_account_when_role_is_not_system_admin(client, role, url):
    client.force_login(_staff(role, is_superuser=True))
    assert client.get(reverse(url), follow=True).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", ADMIN_URLS)
def test_admin_opens_when_account_is_a_system_admin(client, system_admin, url):
    client.force_login(system_admin)
    assert client.get(reverse(url)).status_code == 200
