"""API input: a JSON object naming a key twice is refused whole (as a file with a repeated
column), batch messages count the API's own rows, and every validation message the API
answers, Django REST framework's own included, is in Indonesian."""

import inspect
import json

import pytest
from django.conf import settings
from django.core import validators as core_validators
from django.db.models import fields as model_fields
from django.forms import fields as form_fields
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from rest_framework import exceptions, fields, relations, serializers, validators

from citizens.choices import Education, Role
from stakeholders.choices import InstitutionKind
from stakeholders.models import ExchangeBatch, InstitutionMember
from tests.factories import UserFactory, resident_create
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import institution_with_agreements


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def key(db, admin_of) -> str:
    office = institution_with_agreements(
        name="Dinas Pendidikan Uji", kind=InstitutionKind.EDUCATION_OFFICE
    )
    return issue_key(office, admin_of(office))


@pytest.fixture
def admin_of(db):
    inviter = UserFactory(role=Role.HEAD)

    def make(institution):
        user = UserFactory(role=Role.INSTITUTION_ADMIN)
        InstitutionMember.objects.create(user=user, institution=institution, invited_by=inviter)
        return user

    return make


def _row(resident) -> str:
    return (
        f'"nama_lengkap": "{resident.full_name}", "tanggal_lahir": '
        f'"{resident.birth_date.isoformat()}", "pendidikan": "{Education.MASTER}"'
    )


def _post_raw(client, key: str, url: str, body: str, idempotency_key: str = "dup-1"):
    return client.post(
        url,
        body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
        **auth(key),
    )


def test_batch_row_naming_nik_twice_is_refused_and_changes_nobody_when_sent(
    client, key, django_capture_on_commit_callbacks
) -> None:
    first = resident_create(full_name="SITI PERTAMA")
    second = resident_create(full_name="SITI PERTAMA")
    row = f'"nik": "{first.nik}", {_row(first)}, "nik": "{second.nik}"'
    body = f'{{"rows": [{{{row}}}]}}'

    with django_capture_on_commit_callbacks(execute=True):
        response = _post_raw(client, key, reverse("api:batches"), body)

    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == "duplicate_columns"
    assert "nik" in answer["message"]
    assert not ExchangeBatch.objects.exists()
    for resident in (first, second):
        resident.refresh_from_db()
        assert resident.education != Education.MASTER


def test_lookup_naming_nik_twice_is_refused_when_sent(client, key) -> None:
    resident = resident_create()
    body = f'{{"nik": "{resident.nik}", "nik": "{resident.nik}"}}'

    response = _post_raw(client, key, reverse("api:resident_lookup"), body)

    assert response.status_code == 400
    assert response.json()["code"] == "duplicate_columns"


def test_batch_errors_name_the_api_rows_when_rows_1_and_51_repeat_a_nik(
    client, key, django_capture_on_commit_callbacks
) -> None:
    resident = resident_create()
    repeated = {
        "nik": resident.nik,
        "nama_lengkap": resident.full_name,
        "tanggal_lahir": resident.birth_date.isoformat(),
        "pendidikan": str(Education.MASTER),
    }
    rows = [repeated] + [
        {**repeated, "nik": str(3306060000000000 + number)} for number in range(2, 51)
    ]
    rows.append(repeated)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("api:batches"),
            {"rows": rows},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="lines-1",
            **auth(key),
        )

    status = client.get(reverse("api:batch", args=[response.json()["id"]]), **auth(key)).json()
    by_line = {row["line"]: row["errors"] for row in status["rows"]}
    assert sorted(by_line) == list(range(1, 52))
    for line in (1, 51):
        assert any("1, 51" in error for error in by_line[line]), by_line[line]
    assert not any("2, 52" in error for errors in by_line.values() for error in errors)


def _framework_messages() -> set[str]:
    """Every default validation message of Django's and DRF's fields and validators, and
    DRF's exceptions, in English."""
    found: list[object] = []
    for module in (fields, serializers, relations, form_fields, model_fields):
        for klass in vars(module).values():
            if inspect.isclass(klass):
                for base in klass.__mro__:
                    found.extend(getattr(base, "default_error_messages", {}).values())
    for klass in vars(exceptions).values():
        if inspect.isclass(klass) and issubclass(klass, exceptions.APIException):
            found.append(klass.default_detail)
    for module in (validators, core_validators):
        for klass in vars(module).values():
            if inspect.isclass(klass) and isinstance(getattr(klass, "message", None), Promise):
                found.append(klass.message)
    with translation.override("en"):
        return {str(message) for message in found if str(message) not in ("", "None")}


def test_every_framework_message_is_translated_when_the_language_is_indonesian() -> None:
    assert settings.LANGUAGE_CODE == "id"
    messages = _framework_messages()
    assert len(messages) > 100

    with translation.override("id"):
        untranslated = sorted(text for text in messages if translation.gettext(text) == text)

    assert not untranslated


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("api:batches", {"rows": []}),
        ("api:batches", {"rows": "x"}),
        ("api:batches", {"rows": [{}]}),
        ("api:batches", {"rows": [{"nik": {"a": 1}}]}),
        ("api:resident_lookup", {"nik": ["1"]}),
        ("api:webhooks", {}),
    ],
)
def test_validation_messages_are_indonesian_when_a_request_is_invalid(
    client, key, name: str, body: dict
) -> None:
    def errors(language: str) -> str:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = _post_raw(client, key, reverse(name), json.dumps(body))
        assert response.status_code == 400
        return json.dumps(response.json()["errors"], ensure_ascii=False)

    english = errors("en")
    indonesian = errors("id")

    assert indonesian != english
