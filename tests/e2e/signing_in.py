"""Signing officers in through the real forms: password, then TOTP."""

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt

from tests.factories import TEST_PASSWORD

PERIOD = 30
# allauth accepts a code only in its own period (no tolerance): a code read in the last
# seconds of one would reach the server in the next and be refused.
MIN_SECONDS_LEFT = 5


def current_totp_code(user) -> str:
    """The user's TOTP code, from a period with at least MIN_SECONDS_LEFT to run."""
    left = PERIOD - time.time() % PERIOD
    if left < MIN_SECONDS_LEFT:
        time.sleep(left + 0.1)
    secret = decrypt(Authenticator.objects.get(user=user, type="totp").data["secret"])
    return format_hotp_value(hotp_value(secret, int(time.time()) // PERIOD))


def sign_in(page, base: str, user, *, totp: bool) -> None:
    page.context.clear_cookies()  # whoever used this browser before is signed out
    page.goto(f"{base}/akun/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.click("main form button[type=submit]")
    if totp:
        page.wait_for_url("**/akun/2fa/authenticate/")
        page.fill("input[name=code]", current_totp_code(user))
        # Wait for the answer to the code, not the page already shown.
        with page.expect_navigation():
            page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/akun/login/" not in page.url and "/2fa/" not in page.url
