import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from citizens.choices import AccessPurpose, Education
from citizens.models import AccessLog
from stakeholders import services
from stakeholders.api.authentication import ApiKeyRateThrottle
from stakeholders.choices import AgreementStatus, UploadStatus
from stakeholders.models import ApiKey, ExchangeBatch, WebhookSubscription
from tests.stakeholders.apikit import (
    assert_no_secret,
    auth,
    issue_key,
    narrow_institution,
    secret_resident,
)


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.STAKEHOLDER_FEED_SETTLE_SECONDS = 0


@pytest.fixture
def key(education_office, institution_admin) -> str:
    return issue_key(education_office, institution_admin)


def lookup(client, key, nik, **extra):
    return client.post(
        reverse("api:resident_lookup"),
        {"nik": nik},
        content_type="application/json",
        **auth(key),
        **extra,
    )


def unknown_nik(nik: str) -> str:
    """A valid NIK of the same person's region and birth date that nobody holds."""
    return nik[:-4] + ("9998" if nik[-4:] != "9998" else "9997")


def identity_row(resident) -> dict[str, str]:
    return {
        "nik": resident.nik,
        "nama_lengkap": "RAHASIA NAMA",
        "tanggal_lahir": "1961-02-03",
        "pendidikan": str(Education.DIPLOMA_4_S1),
    }


def post_batch(client, key, rows, idempotency_key="batch-1", name="api:batches"):
    return client.post(
        reverse(name),
        {"rows": rows},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key,
        **auth(key),
    )


def test_lookup_returns_readable_elements_by_column_and_logs_the_read(client, key) -> None:
    resident = secret_resident()

    response = lookup(client, key, resident.nik)

    assert response.status_code == 200
    data = response.json()["data"]
    assert data["nik"] == resident.nik
    assert data["nama_lengkap"] == "RAHASIA NAMA"
    assert data["pendidikan"] == str(Education.DIPLOMA_4_S1)
    assert data["kode_desa"] == resident.family.desa.code
    assert "jaminan_kesehatan" not in data  # not the education office's to read
    log = AccessLog.objects.get(record_id=resident.pk)
    assert log.purpose == AccessPurpose.INSTITUTION_READ
    assert log.actor_label == "Dinas Pendidikan Kabupaten Purworejo"


def test_lookup_answers_the_same_404_when_the_nik_is_unknown(client, key) -> None:
    resident = secret_resident()

    response = lookup(client, key, unknown_nik(resident.nik))

    assert response.status_code == 404
    assert response.json()["code"] == "resident_not_found"
    assert not AccessLog.objects.exists()


def test_lookup_refuses_a_malformed_nik_without_echoing_it(client, key) -> None:
    response = lookup(client, key, "12345")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "nik" in body["errors"]
    assert "12345" not in response.content.decode()


def test_key_in_x_api_key_header_is_accepted(client, key) -> None:
    resident = secret_resident()
    response = client.post(
        reverse("api:resident_lookup"),
        {"nik": resident.nik},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("headers", "code"),
    [({}, "key_missing"), ({"HTTP_AUTHORIZATION": "Bearer prw_nope_nope"}, "key_invalid")],
)
def test_request_without_a_valid_key_is_refused_when_key_is_missing_or_unknown(
    client, db, headers, code
) -> None:
    response = client.get(reverse("api:changes"), **headers)

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["message"]


def test_revoked_key_is_refused_when_used(client, key, institution_admin) -> None:
    services.api_key_revoke(api_key=ApiKey.objects.get(), user=institution_admin)

    response = client.get(reverse("api:changes"), **auth(key))

    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"


def test_expired_key_is_refused_when_used(client, key) -> None:
    ApiKey.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = client.get(reverse("api:changes"), **auth(key))

    assert response.status_code == 401
    assert response.json()["code"] == "key_expired"


def test_key_is_refused_when_the_mou_has_expired(client, expired_office, admin_of) -> None:
    key = issue_key(expired_office, admin_of(expired_office))

    response = client.get(reverse("api:changes"), **auth(key))

    assert response.status_code == 403
    assert response.json()["code"] == "no_agreement"


def test_key_is_refused_when_an_agreement_is_suspended(client, key, education_office) -> None:
    education_office.agreements.filter(kind="pks").update(status=AgreementStatus.SUSPENDED)

    response = lookup(client, key, "3306061705900001")

    assert response.status_code == 403
    assert response.json()["code"] == "no_agreement"


def test_key_is_refused_when_the_institution_is_inactive(client, key, education_office) -> None:
    education_office.is_active = False
    education_office.save(update_fields=["is_active"])

    response = client.get(reverse("api:changes"), **auth(key))

    assert response.status_code == 403
    assert response.json()["code"] == "institution_inactive"


def test_last_used_is_recorded_once_a_minute_at_most(client, key, django_assert_num_queries):
    client.get(reverse("api:changes"), **auth(key))
    first = ApiKey.objects.get().last_used_at
    assert first is not None

    client.get(reverse("api:changes"), **auth(key))

    assert ApiKey.objects.get().last_used_at == first


def test_rate_limit_answers_429_json_when_a_key_exceeds_its_rate(client, key, settings) -> None:
    settings.API_KEY_RATE = "3/min"
    statuses = [client.get(reverse("api:changes"), **auth(key)).status_code for _ in range(3)]

    response = client.get(reverse("api:changes"), **auth(key))

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert response.json()["retry_after"] >= 1
    assert "Retry-After" in response


def test_rate_limit_counts_each_key_separately(
    client, key, education_office, institution_admin, settings
) -> None:
    settings.API_KEY_RATE = "1/min"
    other = issue_key(education_office, institution_admin)
    assert client.get(reverse("api:changes"), **auth(key)).status_code == 200
    assert client.get(reverse("api:changes"), **auth(key)).status_code == 429
    assert client.get(reverse("api:changes"), **auth(other)).status_code == 200
    assert ApiKeyRateThrottle.scope == "api_key"


def test_errors_are_in_indonesian_by_default(client, db) -> None:
    response = client.get(reverse("api:changes"))
    assert response["Content-Language"] == "id"


def test_batch_is_accepted_then_applied_with_row_outcomes(
    client, key, django_capture_on_commit_callbacks
) -> None:
    resident = secret_resident()
    rows = [
        {
            "nik": resident.nik,
            "nama_lengkap": "Rahasia Nama",
            "tanggal_lahir": "1961-02-03",
            "pendidikan": str(Education.MASTER),
        },
        {
            "nik": unknown_nik(resident.nik),
            "nama_lengkap": "Orang Lain",
            "tanggal_lahir": "1961-02-03",
            "pendidikan": str(Education.MASTER),
        },
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_batch(client, key, rows)

    assert response.status_code == 202
    batch_id = response.json()["id"]
    status = client.get(reverse("api:batch", args=[batch_id]), **auth(key)).json()
    assert status["status"] == UploadStatus.APPLIED  # tasks run eagerly in tests
    outcomes = {row["line"]: row for row in status["rows"]}
    assert outcomes[1]["outcome"] == "changed"
    assert outcomes[2]["outcome"] == "error"
    assert outcomes[2]["errors"]
    resident.refresh_from_db()
    assert resident.education == Education.MASTER


def test_batch_with_the_same_idempotency_key_returns_the_first_batch(client, key) -> None:
    resident = secret_resident()
    rows = [identity_row(resident)]

    first = post_batch(client, key, rows, idempotency_key="same")
    second = post_batch(client, key, rows, idempotency_key="same")

    assert first.json()["id"] == second.json()["id"]
    assert ExchangeBatch.objects.count() == 1


def test_batch_without_idempotency_key_is_refused(client, key) -> None:
    response = post_batch(client, key, [{"nik": "1"}], idempotency_key="")

    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_missing"


def test_batch_with_a_bad_header_is_refused_with_the_parsers_code(client, key) -> None:
    response = post_batch(client, key, [{"nik": "3306061705900001", "kolom_asing": "x"}])

    assert response.status_code == 400
    assert response.json()["code"] not in ("", "error")
    assert not ExchangeBatch.objects.exists()


def test_batch_of_another_institution_is_not_found(client, key, health_office, admin_of) -> None:
    resident = secret_resident()
    rows = [identity_row(resident)]
    batch_id = post_batch(client, key, rows).json()["id"]
    other = issue_key(health_office, admin_of(health_office))

    response = client.get(reverse("api:batch", args=[batch_id]), **auth(other))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_roster_batch_goes_through_the_same_machinery(client, university, admin_of) -> None:
    key = issue_key(university, admin_of(university))
    row = {
        "nik": "3404014504030001",
        "nama_lengkap": "MAHASISWA BARU",
        "tanggal_lahir": "2003-04-05",
        "jenis_kelamin": "P",
        "alamat_asal": "Jalan Asal 2",
        "kode_wilayah_asal": "3404012001",
        "alamat_domisili": "Asrama C",
        "kode_desa_domisili": "3306062001",
        "tujuan": "studi",
        "tanggal_mulai": "2026-01-01",
        "tanggal_selesai": "2026-12-31",
        "tempat_lahir": "KULON PROGO",
        "agama": "1",
        "status_perkawinan": "1",
        "pendidikan": "5",
        "pekerjaan": "3",
        "rt_domisili": "002",
        "rw_domisili": "001",
    }

    response = post_batch(client, key, [row], name="api:roster_batches")

    assert response.status_code == 202
    batch = ExchangeBatch.objects.get(pk=response.json()["id"])
    assert batch.format == "roster"
    assert batch.via_api


def test_webhook_subscriptions_are_created_listed_and_deleted_for_the_keys_institution(
    client, key, health_office, admin_of
) -> None:
    created = client.post(
        reverse("api:webhooks"),
        {"url": "https://hooks.example.test/purworejo"},
        content_type="application/json",
        **auth(key),
    )
    assert created.status_code == 201
    body = created.json()
    assert len(body["secret"]) >= 32
    listed = client.get(reverse("api:webhooks"), **auth(key)).json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in json.dumps(listed)
    detail = client.get(reverse("api:webhook", args=[body["id"]]), **auth(key))
    assert "secret" not in detail.json()
    other = issue_key(health_office, admin_of(health_office))
    assert client.get(reverse("api:webhook", args=[body["id"]]), **auth(other)).status_code == 404
    assert (
        client.delete(reverse("api:webhook", args=[body["id"]]), **auth(other)).status_code == 404
    )

    deleted = client.delete(reverse("api:webhook", args=[body["id"]]), **auth(key))

    assert deleted.status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_webhook_with_a_non_http_url_is_refused(client, key) -> None:
    response = client.post(
        reverse("api:webhooks"),
        {"url": "ftp://hooks.example.test/x"},
        content_type="application/json",
        **auth(key),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_no_endpoint_shows_elements_outside_a_narrow_agreement(
    client, admin_of, django_capture_on_commit_callbacks
) -> None:
    institution = narrow_institution()
    key = issue_key(institution, admin_of(institution))
    resident = secret_resident()
    rows = [identity_row(resident)]

    with django_capture_on_commit_callbacks(execute=True):
        applied = post_batch(client, key, rows)
    bodies = [
        applied,
        lookup(client, key, resident.nik),
        client.get(reverse("api:changes"), {"limit": 500}, **auth(key)),
        client.get(reverse("api:webhooks"), **auth(key)),
        client.get(reverse("api:batch", args=[applied.json()["id"]]), **auth(key)),
    ]

    assert [r.status_code for r in bodies] == [202, 200, 200, 200, 200]
    assert bodies[4].json()["status"] == UploadStatus.APPLIED
    assert set(bodies[1].json()["data"]) == {"nik", "pendidikan"}
    columns = {change["column"] for change in bodies[2].json()["changes"]}
    assert columns == {"nik", "pendidikan"}
    for response in bodies:
        assert_no_secret(response.content.decode())


def test_institution_without_read_authority_reads_nothing(client, admin_of) -> None:
    from stakeholders.models import FieldAuthority

    institution = narrow_institution()
    FieldAuthority.objects.filter(institution=institution).update(read=False)
    key = issue_key(institution, admin_of(institution))
    resident = secret_resident()

    assert lookup(client, key, resident.nik).json()["code"] == "no_read_authority"
    assert client.get(reverse("api:changes"), **auth(key)).json()["changes"] == []
