import datetime

import pytest
from django.utils import translation

from citizens import spreadsheet
from stakeholders import parsing
from stakeholders.choices import UploadFormat
from tests.stakeholders.corpus import workbook

FIELD_UPDATE = UploadFormat.FIELD_UPDATE
NIK = "3306065705900001"


@pytest.fixture(autouse=True)
def _english():
    """Phrases below are the English msgids, whatever the catalogue says."""
    with translation.override("en"):
        yield


def parse(content: bytes, format: UploadFormat = FIELD_UPDATE) -> parsing.ParsedFile:
    return parsing.parse_file(content, format=format)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-02", datetime.date(2026, 3, 2)),
        ("02-03-2026", datetime.date(2026, 3, 2)),
        ("02/03/2026", datetime.date(2026, 3, 2)),
        (" 02/03/2026 ", datetime.date(2026, 3, 2)),
        ("31-02-2026", None),
        ("2026/03/02", None),
        ("2-3-2026", None),
        ("03/02/26", None),
        ("", None),
    ],
)
def test_dates_are_read_in_the_three_accepted_forms_only(text, expected) -> None:
    assert parsing.parse_date(text) == expected


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_delimiter_is_sniffed_from_the_header_when_comma_or_semicolon(delimiter) -> None:
    content = delimiter.join(["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"]) + "\n"
    content += delimiter.join([NIK, "SITI, UJI" if delimiter == ";" else "SITI UJI", "x", "8"])
    parsed = parse(content.encode())
    assert parsed.columns == ["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"]
    assert parsed.rows[0].values["pendidikan"] == "8"
    assert parsed.rows[0].errors == []


def test_header_is_normalised_and_a_utf8_bom_is_dropped() -> None:
    parsed = parse("\ufeff NIK ,Nama_Lengkap,tanggal_lahir,pendidikan\n1,A,B,8\n".encode())
    assert parsed.columns == ["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"]


def test_line_numbers_follow_the_file_across_quoted_newlines_and_blank_lines() -> None:
    content = b'nik,nama_lengkap,tanggal_lahir,sekolah\n1,"SITI\nUJI",x,SD\n\n2,B,x,SMP\n'
    rows = parse(content).rows
    assert [(row.line, row.number) for row in rows] == [(2, 1), (5, 2)]


def test_row_with_the_wrong_number_of_cells_is_a_row_error() -> None:
    rows = parse(b"nik,nama_lengkap,tanggal_lahir,pendidikan\n1,A,x\n").rows
    assert "3 cells where the header has 4" in rows[0].errors[0]


@pytest.mark.parametrize("value", ["=1+1", "+62812", "-5", "@SUM(A1)", " =cmd"])
def test_formula_looking_cells_are_row_errors(value) -> None:
    rows = parse(f"nik,nama_lengkap,tanggal_lahir,sekolah\n1,A,x,{value}\n".encode()).rows
    assert "formulas" in rows[0].errors[0]


def test_neutralise_prefixes_formula_cells_only() -> None:
    assert spreadsheet.neutralise("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert spreadsheet.neutralise("\tx") == "'\tx"
    assert spreadsheet.neutralise("SMA 1") == "SMA 1"


def test_roster_needs_exactly_its_columns() -> None:
    header = ",".join(parsing.catalogue.ROSTER_COLUMNS[:-1])
    with pytest.raises(parsing.FileRefused) as refused:
        parse(f"{header}\n{','.join('x' * 10)}\n".encode(), UploadFormat.ROSTER)
    assert refused.value.code == "missing_columns"
    assert "tanggal_selesai" in str(refused.value.message)


def test_field_update_without_any_field_column_is_refused() -> None:
    with pytest.raises(parsing.FileRefused) as refused:
        parse(b"nik,nama_lengkap,tanggal_lahir\n1,A,x\n")
    assert refused.value.code == "no_fields"


def test_xlsx_is_read_with_text_cells_dates_and_line_numbers() -> None:
    content = workbook(
        [
            ["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"],
            [NIK, "SITI UJI", datetime.datetime(1990, 5, 17), 8],
            [None, None, None, None],
            ["3306061705900002", "BUDI", "17/05/1990", 9],
        ]
    )
    parsed = parse(content)
    assert parsed.kind == "xlsx"
    assert [row.line for row in parsed.rows] == [2, 4]
    assert parsed.rows[0].values == {
        "nik": NIK,
        "nama_lengkap": "SITI UJI",
        "tanggal_lahir": "1990-05-17",
        "pendidikan": "8",
    }


def test_xlsx_renamed_or_not_is_recognised_from_its_content() -> None:
    content = workbook([["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"], [NIK, "A", "x", 8]])
    assert parsing.sniff_kind(content) == "xlsx"
    assert parsing.precheck(content, format=FIELD_UPDATE) == "xlsx"


def test_zip_that_is_not_a_workbook_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(parsing.FileRefused) as refused:
        parse(buffer.getvalue())
    assert refused.value.code == "binary"


def test_api_records_get_the_same_checks_and_positions_as_line_numbers() -> None:
    records = [
        {"nik": NIK, "nama_lengkap": "A", "tanggal_lahir": "x", "pendidikan": "8"},
        {"nik": NIK, "nama_lengkap": "B", "tanggal_lahir": "x", "pendidikan": "=1"},
    ]
    parsed = parsing.parse_records(records, format=FIELD_UPDATE)
    assert [row.line for row in parsed.rows] == [1, 2]
    assert "more than once, on lines 1, 2" in parsed.rows[0].errors[0]
    assert any("formulas" in error for error in parsed.rows[1].errors)


def test_api_records_with_differing_keys_are_refused() -> None:
    records = [
        {"nik": NIK, "nama_lengkap": "A", "tanggal_lahir": "x", "pendidikan": "8"},
        {"nik": NIK, "nama_lengkap": "A", "tanggal_lahir": "x", "sekolah": "SD"},
    ]
    with pytest.raises(parsing.FileRefused) as refused:
        parsing.parse_records(records, format=FIELD_UPDATE)
    assert refused.value.code == "ragged"


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("field_update_education.csv", FIELD_UPDATE),
        ("field_update_health.csv", FIELD_UPDATE),
        ("field_update.xlsx", FIELD_UPDATE),
        ("roster_university.csv", UploadFormat.ROSTER),
    ],
)
def test_documented_sample_files_parse_without_errors(name, format) -> None:
    from pathlib import Path

    from citizens.nik import validate_nik

    content = (Path(__file__).parents[2] / "docs" / "samples" / name).read_bytes()
    parsed = parse(content, format)
    assert parsed.rows
    for row in parsed.rows:
        assert row.errors == []
        validate_nik(row.values["nik"])
        assert parsing.parse_date(row.values["tanggal_lahir"]) is not None
