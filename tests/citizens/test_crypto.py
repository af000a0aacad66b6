import subprocess

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from citizens import crypto
from citizens.crypto import DecryptionError
from citizens.models import Family, PermanentResident, RecordChange
from citizens.selectors import resident_get_by_nik
from citizens.services import encryption_keys_rotate
from tests.factories import family_create, resident_create

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def _database_dump() -> str:
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    params = connection.get_connection_params()
    result = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            params.get("host") or "127.0.0.1",
            "-p",
            str(params.get("port") or 5432),
            "-U",
            params.get("user") or "postgres",
            params["dbname"],
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_database_dump_contains_no_plaintext_personal_data_when_residents_exist() -> None:
    family = family_create(address="Jalan Rahasia Melati No. 7")
    resident = resident_create(
        family=family, full_name="WULANDARI KUSUMASTUTI", mother_name="SRI HANDAYANI PRAMESTI"
    )
    dump = _database_dump()
    assert "INSERT" in dump or "COPY" in dump  # the dump really contains the rows
    for secret in [
        resident.nik,
        family.kk_number,
        "WULANDARI KUSUMASTUTI",
        "SRI HANDAYANI PRAMESTI",
        "Jalan Rahasia Melati",
    ]:
        assert secret not in dump, "plaintext personal data found in the database dump"
    assert resident.nik_index in dump  # the blind index is what is stored for lookups


@pytest.mark.django_db
def test_lookup_by_nik_uses_one_query_on_the_blind_index(django_assert_num_queries) -> None:
    resident = resident_create()
    with django_assert_num_queries(1) as captured:
        found = resident_get_by_nik(resident.nik)
    assert found == resident
    assert found.full_name == "SITI UJI"
    assert crypto.nik_index(resident.nik) in captured.captured_queries[0]["sql"]


@pytest.mark.django_db
def test_blind_index_columns_are_unique_indexed() -> None:
    with connection.cursor() as cursor:
        for model, column in [(PermanentResident, "nik_index"), (Family, "kk_index")]:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            assert any(c["columns"] == [column] and c["unique"] for c in constraints.values()), (
                f"{model.__name__}.{column} has no unique index"
            )


@pytest.mark.django_db
def test_encrypted_field_refuses_equality_lookup_when_filtered() -> None:
    with pytest.raises(TypeError):
        PermanentResident.objects.filter(full_name="SITI UJI").exists()


def _raw_values(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_rotation_reencrypts_every_row_when_a_new_key_is_prepended(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    residents = [resident_create(full_name=f"WARGA ROTASI {i}") for i in range(3)]
    table = PermanentResident._meta.db_table
    before = _raw_values(table, "full_name")

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    # Before rotation the old key still decrypts every row.
    assert sorted(PermanentResident.objects.values_list("full_name", flat=True)) == [
        "WARGA ROTASI 0",
        "WARGA ROTASI 1",
        "WARGA ROTASI 2",
    ]
    counts = encryption_keys_rotate(batch_size=2)
    assert counts["citizens.PermanentResident"] == 3
    assert counts["citizens.RecordChange"] == RecordChange.objects.count()
    after = _raw_values(table, "full_name")
    assert all(old != new for old, new in zip(before, after, strict=True))

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]  # old key removed: everything still readable
    names = {r.pk: r.full_name for r in PermanentResident.objects.all()}
    assert names == {r.pk: r.full_name for r in residents}
    assert all(change.new_value is not None for change in RecordChange.objects.all())


@pytest.mark.django_db
def test_reading_fails_loudly_when_the_old_key_is_dropped_before_rotation(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    resident_create()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(DecryptionError):
        list(PermanentResident.objects.all())


def test_blind_index_depends_on_key_and_purpose(settings) -> None:
    nik = "3306065705900001"
    first = crypto.nik_index(nik)
    assert first == crypto.nik_index(f" {nik} ")
    assert first != crypto.kk_index(nik)
    settings.BLIND_INDEX_KEY = "another-key"
    assert crypto.nik_index(nik) != first


def test_bytes_round_trip_and_fail_with_another_key(settings) -> None:
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]
    page = "<p>SITI PEMILIK · 3306••••••••0001</p>".encode()
    token = crypto.encrypt_bytes(page)
    assert page not in token and crypto.decrypt_bytes(token) == page
    # The text form is the same token, as ASCII.
    assert crypto.decrypt(token.decode("ascii")) == page.decode()
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(DecryptionError):
        crypto.decrypt_bytes(token)
