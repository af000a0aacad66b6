import csv
import io
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from citizens.areas import (
    BUNDLED_CSV,
    COLUMNS,
    KECAMATAN,
    AreasLoadResult,
    InvalidAreaData,
    areas_load,
    areas_read_csv,
)
from citizens.choices import AreaKind
from citizens.models import Desa, Kecamatan

pytestmark = pytest.mark.django_db

GRABAG_ROW = {
    "kecamatan_code": "330601",
    "kecamatan_name": "Grabag",
    "desa_code": "3306012001",
    "desa_name": "Harjobinangun",
    "kind": "desa",
    "postal_code": "54265",
    "code_is_official": "true",
}


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


def _write_csv(
    path: Path,
    rows: list[dict[str, str]],
    *,
    columns: tuple[str, ...] = COLUMNS,
    encoding: str = "utf-8",
) -> Path:
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _load(*args: str) -> str:
    out = io.StringIO()
    call_command("load_areas", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> list[tuple[object, ...]]:
    return list(
        Desa.objects.order_by("pk").values_list(
            "pk", "kecamatan_id", "code", "code_is_official", "name", "kind", "postal_code"
        )
    )


def test_load_areas_creates_everything_once_when_run_twice_on_an_empty_database() -> None:
    Desa.objects.all().delete()
    Kecamatan.objects.all().delete()

    first = _load()
    second = _load()

    assert "Kecamatan: 16 created, 0 updated, 0 unchanged." in first
    assert "Villages: 494 created, 0 updated, 0 unchanged." in first
    assert "Kecamatan: 0 created, 0 updated, 16 unchanged." in second
    assert "Villages: 0 created, 0 updated, 494 unchanged." in second
    assert Kecamatan.objects.count() == 16
    assert Desa.objects.count() == 494


def test_load_areas_gives_469_desa_and_25_kelurahan_without_duplicates_when_loaded() -> None:
    _load()

    assert dict(Kecamatan.objects.values_list("code", "name")) == dict(KECAMATAN)
    kinds = Counter(Desa.objects.values_list("kind", flat=True))
    assert kinds == {AreaKind.DESA: 469, AreaKind.KELURAHAN: 25}
    codes = list(Desa.objects.values_list("code", flat=True))
    assert len(set(codes)) == 494
    names = list(Desa.objects.values_list("kecamatan_id", "name"))
    assert len(set(names)) == 494
    assert not Desa.objects.filter(code_is_official=False).exists()


def test_every_desa_code_starts_with_its_kecamatan_code_when_loaded() -> None:
    _load()

    for code, kind, kecamatan_code in Desa.objects.values_list("code", "kind", "kecamatan__code"):
        assert len(code) == 10 and code.isdigit()
        assert code.startswith(kecamatan_code)
        assert code[6] == ("1" if kind == AreaKind.KELURAHAN else "2")


def test_bundled_csv_has_494_rows_in_16_kecamatan_when_read() -> None:
    rows = areas_read_csv(BUNDLED_CSV)

    assert len(rows) == 494
    assert {row["kecamatan_code"] for row in rows} == set(KECAMATAN)
    assert all(row["postal_code"].isdigit() for row in rows)


def test_villages_file_with_a_bad_code_is_rejected_and_changes_nothing_when_loaded(
    tmp_path: Path,
) -> None:
    before = _snapshot()
    renamed = {**GRABAG_ROW, "desa_name": "Harjo Binangun"}
    bad = {**GRABAG_ROW, "desa_code": "3307012002", "desa_name": "Patutrejo"}
    path = _write_csv(tmp_path / "villages.csv", [renamed, bad])

    with pytest.raises(CommandError) as excinfo:
        _load("--villages", str(path))

    message = str(excinfo.value)
    assert "Line 3" in message and "3307012002" in message and "330601" in message
    assert "Nothing was changed." in message
    assert _snapshot() == before


def test_villages_file_without_a_column_is_rejected_and_changes_nothing_when_loaded(
    tmp_path: Path,
) -> None:
    before = _snapshot()
    columns = tuple(c for c in COLUMNS if c != "postal_code")
    path = _write_csv(tmp_path / "villages.csv", [GRABAG_ROW], columns=columns)

    with pytest.raises(CommandError, match="no column postal_code"):
        _load("--villages", str(path))

    assert _snapshot() == before


def test_villages_file_in_latin1_is_rejected_and_changes_nothing_when_loaded(
    tmp_path: Path,
) -> None:
    before = _snapshot()
    row = {**GRABAG_ROW, "desa_name": "Harjobinangún"}
    path = _write_csv(tmp_path / "villages.csv", [row], encoding="latin-1")

    with pytest.raises(CommandError, match="not encoded as UTF-8"):
        _load("--villages", str(path))

    assert _snapshot() == before


def test_villages_file_marks_a_code_official_and_updates_a_name_when_loaded(
    tmp_path: Path,
) -> None:
    provisional = Desa.objects.get(code="3306012001")
    Desa.objects.filter(pk=provisional.pk).update(code="3306012901", code_is_official=False)
    renamed = Desa.objects.get(code="3306092002")
    official_row = GRABAG_ROW
    rename_row = {
        **GRABAG_ROW,
        "kecamatan_code": "330609",
        "kecamatan_name": "KUTOARJO",
        "desa_code": "3306092002",
        "desa_name": "Tuntung Pait",
        "postal_code": "54212",
    }
    path = _write_csv(tmp_path / "official.csv", [official_row, rename_row])

    output = _load("--villages", str(path))

    assert "Villages: 0 created, 2 updated, 0 unchanged." in output
    provisional.refresh_from_db()
    assert (provisional.code, provisional.code_is_official) == ("3306012001", True)
    renamed.refresh_from_db()
    assert renamed.name == "Tuntung Pait"
    assert Desa.objects.count() == 494


def test_provisional_row_leaves_an_official_village_alone_when_loaded() -> None:
    row = {**GRABAG_ROW, "desa_name": "Somewhere Else", "code_is_official": "false"}

    result = areas_load(rows=[row])

    assert result.villages_unchanged == 1 and result.villages_updated == 0
    assert Desa.objects.get(code="3306012001").name == "Harjobinangun"


def test_areas_load_returns_only_unchanged_counts_when_rows_match_the_database() -> None:
    result = areas_load(rows=areas_read_csv(BUNDLED_CSV))

    assert result == AreasLoadResult(kecamatan_unchanged=16, villages_unchanged=494)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"kecamatan_code": "330617", "desa_code": "3306172001"}, "not one of the 16"),
        ({"kecamatan_code": "3306a1"}, "not 6 digits"),
        ({"kecamatan_name": "Ngombol"}, "is Grabag"),
        ({"desa_code": "330601200"}, "not 10 digits"),
        ({"desa_code": "3306022001"}, "not 10 digits starting with 330601"),
        ({"kind": "dusun"}, "neither desa nor kelurahan"),
        ({"kind": "kelurahan"}, "7th digit"),
        ({"postal_code": "5426"}, "not 5 digits"),
        ({"code_is_official": "maybe"}, "neither true nor false"),
        ({"desa_name": "  "}, "1 to 100 characters"),
    ],
)
def test_areas_load_names_the_line_and_changes_nothing_when_a_row_is_invalid(
    change: dict[str, str], fragment: str
) -> None:
    before = _snapshot()
    good = {**GRABAG_ROW, "desa_name": "Renamed First"}

    with pytest.raises(InvalidAreaData) as excinfo:
        areas_load(rows=[good, {**GRABAG_ROW, **change}])

    assert excinfo.value.line == 3
    assert str(excinfo.value.message).startswith("Line 3: ")
    assert fragment in str(excinfo.value.message)
    assert _snapshot() == before


def test_areas_load_rejects_a_file_when_a_code_appears_twice() -> None:
    with pytest.raises(InvalidAreaData, match="already used on line 2"):
        areas_load(rows=[GRABAG_ROW, {**GRABAG_ROW, "desa_name": "Another"}])


def test_areas_load_rolls_back_earlier_rows_when_a_rename_takes_another_villages_name() -> None:
    before = _snapshot()
    earlier = {**GRABAG_ROW, "desa_code": "3306012003", "desa_name": "Ketawang Rejo"}
    taken = {**GRABAG_ROW, "desa_name": "Patutrejo"}

    with pytest.raises(InvalidAreaData, match=r"Line 3: .*already used by code 3306012002"):
        areas_load(rows=[earlier, taken])

    assert _snapshot() == before


def test_areas_read_csv_names_the_line_when_an_empty_line_separates_rows(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "villages.csv", [GRABAG_ROW])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n" + ",".join(GRABAG_ROW.values()) + "\n")

    with pytest.raises(InvalidAreaData) as excinfo:
        areas_read_csv(path)

    assert excinfo.value.line == 3


def test_areas_read_csv_rejects_a_row_when_it_has_too_few_values(tmp_path: Path) -> None:
    path = tmp_path / "villages.csv"
    path.write_text(",".join(COLUMNS) + "\n330601,Grabag,3306012001\n", encoding="utf-8")

    with pytest.raises(InvalidAreaData, match="Line 2: the line has 3 values"):
        areas_read_csv(path)


def test_areas_read_csv_accepts_a_byte_order_mark_when_saved_by_a_spreadsheet(
    tmp_path: Path,
) -> None:
    path = _write_csv(tmp_path / "villages.csv", [GRABAG_ROW], encoding="utf-8-sig")

    assert areas_read_csv(path) == [GRABAG_ROW]
