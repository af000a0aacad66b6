import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from citizens.choices import AccessPurpose, Education, Registry
from citizens.models import AccessLog
from stakeholders import exports
from stakeholders.models import FieldAuthority
from tests.factories import non_permanent_create, resident_create
from tests.stakeholders.apikit import (
    assert_no_secret,
    auth,
    issue_key,
    narrow_institution,
    secret_resident,
)


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response) -> list[list[str]]:
    content = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [[cell or "" for cell in row] for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def key(education_office, institution_admin) -> str:
    return issue_key(education_office, institution_admin)


def test_csv_export_has_every_resident_with_the_readable_columns(client, key, desa) -> None:
    resident = resident_create(full_name="SITI EKSPOR")
    guest = non_permanent_create(desa=desa)

    response = client.get(reverse("api:export_csv"), **auth(key))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert rows[0] == [
        "nik",
        "nama_lengkap",
        "tanggal_lahir",
        "jenis_kelamin",
        "kode_desa",
        "pendidikan",
        "sekolah",
    ]
    by_nik = {row[0]: row for row in rows[1:]}
    assert by_nik[resident.nik][1] == "SITI EKSPOR"
    assert by_nik[resident.nik][4] == resident.family.desa.code
    assert by_nik[guest.nik][4] == desa.code


def test_xlsx_export_has_the_same_rows_as_text_cells(client, key, desa) -> None:
    resident = resident_create(full_name="SITI EKSPOR")
    non_permanent_create(desa=desa)

    csv_rows = read_csv(client.get(reverse("api:export_csv"), **auth(key)))
    response = client.get(reverse("api:export_xlsx"), **auth(key))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    xlsx_rows = read_xlsx(response)
    assert xlsx_rows == csv_rows
    assert any(row[0] == resident.nik for row in xlsx_rows)  # the NIK stays text


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_formula_like_values_are_neutralised_in_both_formats(client, key, payload) -> None:
    resident_create(school_enrolment=payload, education=Education.MASTER)

    csv_rows = read_csv(client.get(reverse("api:export_csv"), **auth(key)))
    xlsx_rows = read_xlsx(client.get(reverse("api:export_xlsx"), **auth(key)))

    for rows in (csv_rows, xlsx_rows):
        assert rows[1][6] == "'" + payload
        assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for r in rows for cell in r)


def test_exports_of_a_narrow_institution_hold_only_its_columns(client, admin_of) -> None:
    institution = narrow_institution()
    key = issue_key(institution, admin_of(institution))
    resident = secret_resident()

    for name, reader in (("api:export_csv", read_csv), ("api:export_xlsx", read_xlsx)):
        response = client.get(reverse(name), **auth(key))
        assert response.status_code == 200
        rows = reader(response)
        assert rows == [["nik", "pendidikan"], [resident.nik, str(Education.DIPLOMA_4_S1)]]
        assert_no_secret(repr(rows))


def test_export_is_refused_when_the_institution_may_read_nothing(client, admin_of) -> None:
    institution = narrow_institution()
    FieldAuthority.objects.filter(institution=institution).update(read=False)
    key = issue_key(institution, admin_of(institution))

    response = client.get(reverse("api:export_csv"), **auth(key), HTTP_ACCEPT="text/csv")

    assert response.status_code == 403
    assert response.json()["code"] == "no_read_authority"
    with pytest.raises(exports.NothingToExport):
        exports.export_rows(institution)


def test_export_is_refused_when_the_mou_has_expired(client, expired_office, admin_of) -> None:
    key = issue_key(expired_office, admin_of(expired_office))

    for name in ("api:export_csv", "api:export_xlsx"):
        response = client.get(reverse(name), **auth(key))
        assert response.status_code == 403
        assert response.json()["code"] == "no_agreement"


def test_institution_admin_downloads_both_formats_in_the_browser(client, institution_admin) -> None:
    resident = resident_create(full_name="SITI BROWSER")
    client.force_login(institution_admin)

    csv_rows = read_csv(client.get(reverse("stakeholders:export_csv")))
    xlsx_rows = read_xlsx(client.get(reverse("stakeholders:export_xlsx")))

    assert [resident.nik, "SITI BROWSER"] == csv_rows[1][:2] == xlsx_rows[1][:2]


def test_browser_export_is_refused_to_anyone_but_an_institution_admin(
    client, verifier, education_office
) -> None:
    client.force_login(verifier)

    assert client.get(reverse("stakeholders:export_csv")).status_code == 403


def test_browser_export_of_a_narrow_institution_holds_only_its_columns(client, admin_of) -> None:
    institution = narrow_institution()
    client.force_login(admin_of(institution))
    secret_resident()

    csv_rows = read_csv(client.get(reverse("stakeholders:export_csv")))
    xlsx_rows = read_xlsx(client.get(reverse("stakeholders:export_xlsx")))

    assert csv_rows[0] == xlsx_rows[0] == ["nik", "pendidikan"]
    assert_no_secret(repr(csv_rows) + repr(xlsx_rows))


def test_export_logs_one_institution_read_per_exported_resident(client, key, desa) -> None:
    residents = [resident_create(full_name=f"WARGA EKSPOR {i}") for i in range(3)]
    guest = non_permanent_create(desa=desa)

    response = client.get(reverse("api:export_csv"), **auth(key))
    rows = read_csv(response)

    assert len(rows) == 1 + 4
    logged = set(
        AccessLog.objects.filter(purpose=AccessPurpose.INSTITUTION_READ).values_list(
            "registry", "record_id", "actor_label", "reason"
        )
    )
    label, reason = "Dinas Pendidikan Kabupaten Purworejo", "Ekspor data"
    assert logged == {
        *((Registry.PERMANENT, resident.pk, label, reason) for resident in residents),
        (Registry.NON_PERMANENT, guest.pk, label, reason),
    }


def test_refused_export_logs_no_read(client, admin_of) -> None:
    resident_create()
    institution = narrow_institution()
    FieldAuthority.objects.filter(institution=institution).update(read=False)
    key = issue_key(institution, admin_of(institution))

    for name in ("api:export_csv", "api:export_xlsx"):
        assert client.get(reverse(name), **auth(key)).status_code == 403
    assert not AccessLog.objects.exists()
