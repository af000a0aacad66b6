"""CSV formula injection: every CSV the portal writes quotes every field, and no piece of any
cell, split on `,` (the file's delimiter) or on `;` (what Excel with Indonesian settings
uses), starts with a character a spreadsheet reads as a formula. The hostile value survives
as text. And no code but citizens/spreadsheet.py makes a csv writer."""

import ast
import csv
import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from citizens import spreadsheet, statistics
from citizens.models import Kecamatan
from skts import services as skts_services
from stakeholders import importing
from stakeholders.choices import UploadFormat
from tests.factories import family_create, non_permanent_create, resident_create
from tests.skts.conftest import approve, holder_account  # noqa: F401  (fixtures)
from tests.stakeholders.apikit import auth, issue_key
from tests.stakeholders.conftest import admin_of, education_office  # noqa: F401  (fixtures)
from verification import reports

pytestmark = pytest.mark.django_db

HOSTILE = "SANTOSO;=2+5;=CMD|' /C calc'!A0,+1, -2,@SUM(1)"
FORMULA = ("=", "+", "-", "@", "\t", "\r")
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SKTS_PUBLIC_BASE_URL = "https://portal.example.test"


def _dangerous(piece: str) -> bool:
    return piece.startswith(("\t", "\r")) or piece.strip().lstrip('"').lstrip().startswith(FORMULA)


def assert_safe(text: str, *, hostile: str = HOSTILE) -> None:
    """Every field quoted; no field or naive piece of a line starts a formula; the hostile
    value is there, neutralised, as text."""
    body = text.removeprefix("\ufeff")
    for line in body.splitlines():
        if line:
            assert line.startswith('"') and line.endswith('"'), line
        for piece in re.split(r"[;,]", line):
            assert not _dangerous(piece), (piece, line)
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(body), delimiter=delimiter):
            for field in row:
                assert not _dangerous(field), (delimiter, field)
                for piece in re.split(r"[;,]", field):
                    assert not _dangerous(piece), (delimiter, piece)
    cells = [field for row in csv.reader(io.StringIO(body)) for field in row]
    assert spreadsheet.neutralise(hostile) in cells


def test_neutralise_marks_every_piece_a_spreadsheet_could_run_when_split_on_semicolons() -> None:
    assert spreadsheet.neutralise(HOSTILE) == (
        "SANTOSO;'=2+5;'=CMD|' /C calc'!A0,'+1,' -2,'@SUM(1)"
    )
    assert spreadsheet.neutralise("\tx") == "'\tx"
    assert spreadsheet.neutralise("a\n=b") == "a\n'=b"
    assert spreadsheet.neutralise("Jl. Mawar 5, RT 001/RW 002") == "Jl. Mawar 5, RT 001/RW 002"
    assert spreadsheet.neutralise(spreadsheet.neutralise(HOSTILE)) == spreadsheet.neutralise(
        HOSTILE
    )
    assert spreadsheet.neutralise(None) == ""


def test_csv_writer_quotes_every_field_and_keeps_genuine_negative_numbers_when_writing() -> None:
    out = io.StringIO()
    spreadsheet.csv_writer(out).writerow([HOSTILE, -3, 2.5, "-3", None, True])
    assert out.getvalue() == (
        "\"SANTOSO;'=2+5;'=CMD|' /C calc'!A0,'+1,' -2,'@SUM(1)\","
        '"-3","2.5","\'-3","","True"\r\n'
    )


def test_institution_export_keeps_a_hostile_approved_name_as_text_when_split_on_semicolons(
    client,
    education_office,  # noqa: F811
    admin_of,  # noqa: F811
) -> None:
    # School age, so the row stays in an education office's export whatever its scope.
    resident_create(full_name=HOSTILE, birth_date=datetime.date(2015, 3, 4))
    key = issue_key(education_office, admin_of(education_office))
    response = client.get(reverse("api:export_csv"), **auth(key))
    assert response.status_code == 200
    assert_safe(b"".join(response.streaming_content).decode("utf-8"))


def test_skts_register_csv_keeps_a_hostile_name_as_text_when_split_on_semicolons(
    client,
    verifier,
    holder_account,  # noqa: F811
    approve,  # noqa: F811
) -> None:
    user, resident = holder_account
    approve(
        skts_services.letter_request_create(
            actor=user, resident=resident, host_name="SITI PENJAMIN", host_nik="3306064101900001"
        ).submission
    )
    type(resident).objects.filter(pk=resident.pk).update(full_name=HOSTILE)
    client.force_login(verifier)
    response = client.get(reverse("skts:register_csv"))
    assert response.status_code == 200
    assert_safe(response.content.decode("utf-8"))


def test_batch_error_csv_keeps_a_hostile_cell_as_text_when_split_on_semicolons(
    client,
    education_office,  # noqa: F811
    admin_of,  # noqa: F811
) -> None:
    admin = admin_of(education_office)
    resident = resident_create(birth_date=datetime.date(2015, 3, 4))
    hostile_nik = "=2+5;=CMD|' /C calc'!A0"
    text = (
        "nik,nama_lengkap,tanggal_lahir,pendidikan\n"
        f"{resident.nik},SITI UJI,2015-03-04,8\n"
        f'"{hostile_nik}",X,1990-05-17,8\n'
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = importing.batch_receive_file(
        institution=education_office,
        user=admin,
        upload=SimpleUploadedFile("data.csv", text.encode()),
        format=UploadFormat.FIELD_UPDATE,
    )
    importing.batch_validate(batch_id=batch.pk)
    client.force_login(admin)
    response = client.get(reverse("stakeholders:batch_errors", args=[batch.pk]))
    assert response.status_code == 200
    assert_safe(response.content.decode("utf-8"), hostile=hostile_nik)


def test_statistics_csv_keeps_a_hostile_label_as_text_when_split_on_semicolons(
    client, desa, head
) -> None:
    for _ in range(6):
        non_permanent_create(desa=desa, host_institution=HOSTILE)
    statistics.statistics_refresh()
    client.force_login(head)
    response = client.get(reverse("statistics:non_permanent"), {"unduh": "host"})
    assert response.status_code == 200
    assert_safe(response.content.decode("utf-8"))


def test_reports_keep_a_hostile_area_name_as_text_when_split_on_semicolons(
    client, desa, head
) -> None:
    Kecamatan.objects.filter(pk=desa.kecamatan_id).update(name=HOSTILE)
    family = family_create(desa=desa)
    for _ in range(6):
        resident_create(family=family)
        non_permanent_create(desa=desa, host_institution=HOSTILE)
    statistics.statistics_refresh()
    client.force_login(head)
    monthly = reports.monthly_report_create(today=datetime.date(2026, 12, 1))
    response = client.get(reverse("verification:report_file", args=[monthly.pk, "csv"]))
    assert_safe(b"".join(response.streaming_content).decode("utf-8"))
    weekly = reports.weekly_report_create(today=datetime.date(2026, 12, 7))
    response = client.get(reverse("verification:report_file", args=[weekly.pk, "csv"]))
    text = b"".join(response.streaming_content).decode("utf-8")
    body = text.removeprefix("\ufeff")
    for delimiter in (",", ";"):
        for row in csv.reader(io.StringIO(body), delimiter=delimiter):
            assert not any(_dangerous(field) for field in row), row


def _csv_writers(path: Path) -> list[int]:
    """Lines where `path` calls csv.writer / csv.DictWriter (or imports them by name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in {"writer", "DictWriter"}
            and isinstance(node.value, ast.Name)
            and node.value.id == "csv"
        ):
            found.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module in {"csv", "_csv"}
            and any(alias.name in {"writer", "DictWriter"} for alias in node.names)
        ):
            found.append(node.lineno)
    return found


def test_no_code_but_the_spreadsheet_module_makes_a_csv_writer_when_walked() -> None:
    skip = {".venv", "tests", "node_modules", ".git", "var"}
    sources = [
        path for path in ROOT.rglob("*.py") if not skip.intersection(path.relative_to(ROOT).parts)
    ]
    assert len(sources) > 50
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if path != ROOT / "citizens" / "spreadsheet.py" and (lines := _csv_writers(path))
    }
    assert offenders == {}
    assert _csv_writers(ROOT / "citizens" / "spreadsheet.py")
