"""Roles, jurisdiction, MFA enforcement, login lock-out and security headers."""

import pytest
from django.urls import reverse

from citizens.models import AccessLog, AccountSession
from tests.factories import TEST_PASSWORD, family_create, resident_create

pytestmark = pytest.mark.django_db


def test_citizen_cannot_open_an_officer_page(client, citizen) -> None:
    client.force_login(citizen)
    for url in [reverse("officer_home"), reverse("citizens:resident_list")]:
        assert client.get(url).status_code == 403


def test_anonymous_visitor_is_sent_to_login_when_opening_an_officer_page(client) -> None:
    response = client.get(reverse("officer_home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_officer_without_totp_is_sent_to_the_invitation_page(
    client, officer_without_totp, verified_email
) -> None:
    verified_email(officer_without_totp)
    client.post(
        reverse("account_login"), {"login": officer_without_totp.email, "password": TEST_PASSWORD}
    )
    for url in [reverse("officer_home"), reverse("citizens:resident_list"), reverse("home")]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("invitation_required")
    # TOTP is enrolled through the account's invitation only (tests/security).
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"] == reverse("invitation_required")
    assert client.get(reverse("invitation_required")).status_code == 200


def test_officer_with_totp_opens_the_officer_desk(client, operator_desa) -> None:
    client.force_login(operator_desa)
    response = client.get(reverse("officer_home"))
    assert response.status_code == 200
    assert operator_desa.jurisdiction_desa.name in response.text


def test_village_operator_sees_only_their_own_desa(client, operator_desa, other_desa) -> None:
    own = resident_create(
        family=family_create(desa=operator_desa.jurisdiction_desa), full_name="WARGA SENDIRI"
    )
    foreign = resident_create(family=family_create(desa=other_desa), full_name="WARGA LAIN")
    client.force_login(operator_desa)
    listing = client.get(reverse("citizens:resident_list"))
    assert "WARGA SENDIRI" in listing.text
    assert "WARGA LAIN" not in listing.text
    assert client.get(reverse("citizens:resident_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("citizens:resident_detail", args=[foreign.pk])).status_code == 404


def test_village_operator_cannot_find_a_foreign_resident_by_nik(
    client, operator_desa, other_desa
) -> None:
    foreign = resident_create(family=family_create(desa=other_desa), full_name="WARGA LAIN")
    client.force_login(operator_desa)
    response = client.post(reverse("citizens:resident_list"), {"nik": foreign.nik})
    assert response.status_code == 200
    assert "WARGA LAIN" not in response.text


def test_kecamatan_officer_sees_every_desa_of_their_kecamatan_only(
    client, officer_kecamatan, other_desa
) -> None:
    kecamatan = officer_kecamatan.jurisdiction_kecamatan
    villages = list(kecamatan.villages.order_by("code")[:2])
    inside = [resident_create(family=family_create(desa=d)) for d in villages]
    outside = resident_create(family=family_create(desa=other_desa))
    client.force_login(officer_kecamatan)
    for resident in inside:
        assert (
            client.get(reverse("citizens:resident_detail", args=[resident.pk])).status_code == 200
        )
    assert client.get(reverse("citizens:resident_detail", args=[outside.pk])).status_code == 404


def test_officer_view_of_a_full_record_is_logged(client, verifier) -> None:
    resident = resident_create()
    client.force_login(verifier)
    client.get(reverse("citizens:resident_detail", args=[resident.pk]))
    entry = AccessLog.objects.get(record_id=resident.pk)
    assert entry.actor == verifier and entry.purpose == "officer_view"


def test_nik_search_is_posted_so_no_nik_lands_in_a_url(client, verifier) -> None:
    resident = resident_create(full_name="DICARI NIK")
    other = resident_create(full_name="BUKAN DICARI")
    client.force_login(verifier)
    url = reverse("citizens:resident_list")
    assert 'method="post"' in client.get(url).text
    found = client.post(url, {"nik": resident.nik}).text
    assert "DICARI NIK" in found and other.full_name not in found
    # A NIK in the query string is ignored rather than searched.
    assert other.full_name in client.get(url, {"nik": resident.nik}).text


def test_invalid_nik_search_shows_an_error(client, verifier) -> None:
    client.force_login(verifier)
    response = client.post(reverse("citizens:resident_list"), {"nik": "12345"})
    assert response.status_code == 200
    assert "16" in response.text


def test_admin_login_goes_through_allauth(client) -> None:
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_system_admin_with_totp_opens_the_admin(client, system_admin) -> None:
    client.force_login(system_admin)
    assert client.get(reverse("admin:index")).status_code == 200


def test_citizen_cannot_open_the_admin(client, citizen) -> None:
    client.force_login(citizen)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


def test_login_locks_after_repeated_failures(client, citizen, verified_email) -> None:
    verified_email(citizen)
    url = reverse("account_login")
    for _ in range(5):
        response = client.post(url, {"login": citizen.email, "password": "wrong-password"})
        assert response.status_code == 200
    response = client.post(url, {"login": citizen.email, "password": TEST_PASSWORD})
    assert "_auth_user_id" not in client.session
    assert response.status_code in (200, 429)


def test_login_succeeds_and_session_lives_in_the_database(client, citizen, verified_email) -> None:
    verified_email(citizen)
    response = client.post(
        reverse("account_login"), {"login": citizen.email, "password": TEST_PASSWORD}
    )
    assert response.status_code == 302
    # With its account as a column, which the session's one-statement load joins.
    assert AccountSession.objects.filter(
        session_key=client.session.session_key, user=citizen
    ).exists()


def test_every_page_sends_csp_without_inline_script_and_security_headers(client) -> None:
    response = client.get(reverse("home"))
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "<script" not in response.text


def test_home_and_login_pages_load_in_indonesian_by_default(client) -> None:
    assert client.get(reverse("home")).status_code == 200
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert 'lang="id"' in response.text


def test_pages_stay_indonesian_when_the_browser_prefers_english(client) -> None:
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="id"' in response.text
    assert response["Content-Language"] == "id"


def test_language_switcher_choice_is_respected(client) -> None:
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("home"))
    assert 'lang="en"' in response.text
