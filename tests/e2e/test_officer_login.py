import pytest

from tests.e2e.signing_in import current_totp_code
from tests.factories import TEST_PASSWORD, family_create, resident_create

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_officer_signs_in_with_totp_and_sees_only_their_village(
    live_server, page, operator_desa, other_desa, verified_email, axe_check, screenshot
) -> None:
    verified_email(operator_desa)
    resident_create(
        family=family_create(desa=operator_desa.jurisdiction_desa), full_name="WARGA DESA SENDIRI"
    )
    resident_create(family=family_create(desa=other_desa), full_name="WARGA DESA LAIN")

    page.goto(f"{live_server.url}/")
    axe_check(page)
    screenshot(page, "home-phone")

    page.goto(f"{live_server.url}/akun/login/")
    axe_check(page)
    page.fill("input[name=login]", operator_desa.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")

    page.wait_for_url("**/akun/2fa/authenticate/")
    axe_check(page)
    screenshot(page, "login-totp-phone")
    page.fill("input[name=code]", current_totp_code(operator_desa))
    with page.expect_navigation():
        page.click("main form button[type=submit]")

    page.goto(f"{live_server.url}/petugas/penduduk/")
    assert page.get_by_text("WARGA DESA SENDIRI").is_visible()
    assert page.get_by_text("WARGA DESA LAIN").count() == 0
    axe_check(page)
    screenshot(page, "officer-residents-phone")


def test_officer_without_totp_must_enrol_before_the_officer_desk(
    live_server, page, officer_without_totp, verified_email
) -> None:
    verified_email(officer_without_totp)
    page.goto(f"{live_server.url}/akun/login/")
    page.fill("input[name=login]", officer_without_totp.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    page.goto(f"{live_server.url}/petugas/")
    assert "/akun/" in page.url  # sent to TOTP set-up (after allauth's password re-check)
    assert "/petugas/" not in page.url
