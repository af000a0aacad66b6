"""The authentication backends load the signed-in account more cheaply, and refuse as before."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from citizens.backends import AuthenticationBackend, ModelBackend, user_by_pk
from citizens.models import User

pytestmark = pytest.mark.django_db

MY_DATA = "/saya/"


@pytest.mark.postgres  # the account is read by its own statement on PostgreSQL only
def test_account_is_loaded_as_the_orm_loads_it_when_read_by_primary_key(operator_desa) -> None:
    loaded = user_by_pk(operator_desa.pk)
    expected = User.objects.get(pk=operator_desa.pk)
    assert type(loaded) is User and loaded._state.db == expected._state.db
    assert not loaded._state.adding
    for field in User._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert loaded.last_login is None or loaded.last_login.tzinfo is not None
    assert loaded.jurisdiction_desa == operator_desa.jurisdiction_desa
    assert user_by_pk(expected.pk + 10_000) is None


@pytest.mark.parametrize("backend", [ModelBackend(), AuthenticationBackend()])
def test_backend_gives_the_account_when_active_and_nothing_otherwise(backend, citizen) -> None:
    assert backend.get_user(citizen.pk) == citizen
    assert backend.get_user(citizen.pk + 10_000) is None
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert backend.get_user(citizen.pk) is None


def test_session_is_signed_out_when_the_account_is_deactivated(client, citizen) -> None:
    client.force_login(citizen)
    assert client.get(reverse("submissions:list")).status_code == 200
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    response = client.get(reverse("submissions:list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_other_sessions_end_when_the_password_changes(client, citizen) -> None:
    client.force_login(citizen)
    assert SESSION_KEY in client.session
    citizen.set_password("a-new-Passw0rd-for-this-test")
    citizen.save(update_fields=["password"])
    response = client.get(reverse("submissions:list"))
    assert response.status_code == 302 and reverse("account_login") in response["Location"]


def test_sign_in_with_the_form_keeps_working_when_the_backends_are_the_portals(
    client, citizen, verified_email
) -> None:
    citizen.set_password("Sandi-Rahasia-2026")
    citizen.save(update_fields=["password"])
    verified_email(citizen)
    response = client.post(
        reverse("account_login"), {"login": citizen.email, "password": "Sandi-Rahasia-2026"}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_backend"].startswith("citizens.backends.")
    assert client.get(reverse("submissions:list")).status_code == 200
