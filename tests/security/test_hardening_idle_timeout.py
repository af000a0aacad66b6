"""Hardening: an officer's session ends after OFFICER_IDLE_TIMEOUT_MINUTES without a request,
besides the absolute SESSION_COOKIE_AGE; the last activity is written at most once a minute."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from citizens.models import AccountSession

pytestmark = pytest.mark.django_db

# From the real present: on PostgreSQL the session statement compares the expiry with the
# database's clock, which time_machine does not move.
T0 = datetime.datetime.now(tz=datetime.UTC).replace(microsecond=0)
HOME = reverse("officer_home")


def _at(minutes: float):
    return time_machine.travel(T0 + datetime.timedelta(minutes=minutes), tick=False)


def _signed_in(response) -> bool:
    return response.status_code == 200


def test_officer_is_signed_out_when_idle_longer_than_the_timeout(client, verifier, settings):
    settings.OFFICER_IDLE_TIMEOUT_MINUTES = 30
    with _at(0):
        client.force_login(verifier)
        assert _signed_in(client.get(HOME))
    with _at(31):
        response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    with _at(32):
        # The session is gone, not only this one answer.
        assert client.get(HOME).status_code == 302
    assert not AccountSession.objects.filter(user=verifier).exists()


def test_officer_stays_signed_in_when_active_within_the_timeout(client, verifier, settings):
    settings.OFFICER_IDLE_TIMEOUT_MINUTES = 30
    with _at(0):
        client.force_login(verifier)
    for minutes in (0, 25, 50, 75, 100):
        with _at(minutes):
            assert _signed_in(client.get(HOME)), minutes


def test_idle_timeout_follows_the_setting_when_it_is_changed(client, verifier, settings):
    settings.OFFICER_IDLE_TIMEOUT_MINUTES = 10
    with _at(0):
        client.force_login(verifier)
        assert _signed_in(client.get(HOME))
    with _at(11):
        assert client.get(HOME).status_code == 302


def test_absolute_limit_holds_when_an_active_officer_renews_the_idle_timer(
    client, verifier, settings
):
    settings.SESSION_COOKIE_AGE = 2 * 60 * 60
    with _at(0):
        client.force_login(verifier)
    for minutes in range(0, 120, 20):
        with _at(minutes):
            assert _signed_in(client.get(HOME)), minutes
    with _at(121):
        assert client.get(HOME).status_code == 302


def test_last_activity_is_written_at_most_once_a_minute_when_requests_follow_each_other(
    client, verifier
):
    with _at(0):
        client.force_login(verifier)
        client.get(HOME)
    written = AccountSession.objects.get(user=verifier).session_data
    for seconds in (10, 30, 59):
        with _at(seconds / 60):
            client.get(HOME)
        assert AccountSession.objects.get(user=verifier).session_data == written
    with _at(1.5):
        client.get(HOME)
    assert AccountSession.objects.get(user=verifier).session_data != written


def test_citizen_session_has_no_idle_timeout_when_the_citizen_pauses(client, citizen):
    with _at(0):
        client.force_login(citizen)
        assert client.get(reverse("submissions:list")).status_code == 200
    with _at(90):
        assert client.get(reverse("submissions:list")).status_code == 200
