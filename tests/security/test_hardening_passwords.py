"""Hardening: passwords are at least 12 characters (ASVS 2.1.1), in Django and in allauth."""

import pytest
from allauth.account.forms import SignupForm
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

ELEVEN = "Sawah-Hijau"  # 11 characters, not common, not numeric
TWELVE = "Sawah-Hijau-"


def test_password_validators_refuse_password_when_shorter_than_12():
    assert len(ELEVEN) == 11
    with pytest.raises(ValidationError):
        validate_password(ELEVEN)
    validate_password(TWELVE)


@pytest.mark.django_db
def test_signup_refuses_password_when_shorter_than_12():
    form = SignupForm(
        data={"email": "warga.baru@example.com", "password1": ELEVEN, "password2": ELEVEN}
    )
    assert not form.is_valid()
    assert "password1" in form.errors

    form = SignupForm(
        data={"email": "warga.baru@example.com", "password1": TWELVE, "password2": TWELVE}
    )
    assert form.is_valid(), form.errors
