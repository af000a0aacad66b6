"""NIK and KK number validation (citizens.nik) and the deterministic builder (citizens.nikgen).

Pure functions: no database.
"""

import datetime
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from hypothesis import given, settings
from hypothesis import strategies as st

from citizens.choices import Sex
from citizens.nik import NikInfo, nik_warnings, parse_nik, validate_kk_number, validate_nik
from citizens.nikgen import make_kk, make_nik

PURWOREJO_MALE = "3306011208900001"  # 330601, born 12-08-(19)90, serial 0001
PURWOREJO_FEMALE = "3306015208900002"  # day 52 = 12 + 40

BIRTH_DATE_WARNING = "The birth date in the NIK differs from the recorded birth date."
SEX_WARNING = "The sex encoded in the NIK differs from the recorded sex."
OUTSIDE_WARNING = "This NIK was issued outside Purworejo Regency."

NON_STRINGS = [None, 3306011208900001, b"3306011208900001", 3.306011208900001e15, ["3306"]]
EXCEL_MANGLED = [
    "3.30601E+15",
    "3,30601E+15",
    "3.306011208900001e15",
    " 3.30601E+15 ",
    "3.30601e+015",
]


def _error_code(validator: Callable[[object], object], value: object) -> str | None:
    with pytest.raises(ValidationError) as excinfo:
        validator(value)
    return excinfo.value.code


# Valid NIKs


@pytest.mark.parametrize(
    ("nik", "region", "sex", "day", "month", "year_2"),
    [
        (PURWOREJO_MALE, "330601", Sex.MALE, 12, 8, 90),
        (PURWOREJO_FEMALE, "330601", Sex.FEMALE, 12, 8, 90),
        ("3306162512030417", "330616", Sex.MALE, 25, 12, 3),
        ("3171011708450001", "317101", Sex.MALE, 17, 8, 45),
        ("3171015708450001", "317101", Sex.FEMALE, 17, 8, 45),
    ],
    ids=["purworejo-male", "purworejo-female", "purworejo-2003", "jakarta-male", "jakarta-female"],
)
def test_parse_nik_returns_encoded_fields_when_nik_is_valid(
    nik: str, region: str, sex: int, day: int, month: int, year_2: int
) -> None:
    assert parse_nik(nik) == NikInfo(
        nik=nik, region=region, sex=sex, day=day, month=month, year_2=year_2
    )
    assert validate_nik(nik) == nik


def test_parse_nik_accepts_stdnum_docstring_example_when_nik_is_3171011708450001() -> None:
    info = parse_nik("3171011708450001")
    assert (info.region, info.sex, info.day, info.month, info.year_2) == (
        "317101",
        Sex.MALE,
        17,
        8,
        45,
    )


def test_parse_nik_reads_female_1945_08_17_when_nik_is_stdnum_example_3171015708450001() -> None:
    info = parse_nik("3171015708450001")
    assert info.sex == Sex.FEMALE
    assert info.birth_date_matches(datetime.date(1945, 8, 17))


def test_parse_nik_refuses_with_nik_length_when_stdnum_example_is_too_short() -> None:
    assert _error_code(parse_nik, "31710117084500") == "nik_length"


def test_parse_nik_refuses_with_nik_region_when_stdnum_example_has_invalid_province() -> None:
    assert _error_code(parse_nik, "9971011708450001") == "nik_region"


def test_parse_nik_refuses_with_nik_date_when_stdnum_example_has_impossible_date() -> None:
    assert _error_code(parse_nik, "3171013002001234") == "nik_date"


def test_parse_nik_accepts_feb_29_when_stdnum_example_year_00_can_be_2000() -> None:
    info = parse_nik("3171012902001234")
    assert (info.day, info.month, info.year_2) == (29, 2, 0)


@pytest.mark.parametrize(
    "nik",
    ["6571011208900001", "9271011208900001", "9371011208900001", "9671011208900001"],
    ids=["kalimantan-utara-65", "papua-barat-92", "papua-selatan-93", "papua-barat-daya-96"],
)
def test_parse_nik_accepts_when_province_is_missing_from_stdnum_data(nik: str) -> None:
    assert parse_nik(nik).nik == nik


# Format and length


@pytest.mark.parametrize("nik", ["330601120890000", "33060112089000011"], ids=["15", "17"])
def test_parse_nik_refuses_with_nik_length_when_digit_count_is_not_16(nik: str) -> None:
    assert _error_code(parse_nik, nik) == "nik_length"


def test_length_error_reports_digit_count_when_nik_is_15_digits() -> None:
    with translation.override("en"):
        with pytest.raises(ValidationError) as excinfo:
            parse_nik("330601120890000")
        assert excinfo.value.messages == ["NIK must be exactly 16 digits (15 given)."]


@pytest.mark.parametrize(
    "nik",
    [
        "33060112089000A1",
        "330601120890000O",
        "NIK3306011208900001",
        "٣306011208900001",
        "٣٣٠٦٠١١٢٠٨٩٠٠٠٠١",
        "３３０６０１１２０８９０００１",
        "３306011208900001",
        "𝟑306011208900001",
        "3306011208900001²",
        "3306011208900\t001",
        "3306/0112/0890/0001",
        "+3306011208900001",
        "",
        "   ",
    ],
    ids=[
        "letter-A",
        "letter-O",
        "prefix",
        "arabic-indic-one",
        "arabic-indic-all",
        "fullwidth-all",
        "fullwidth-one",
        "math-bold",
        "superscript",
        "tab",
        "slashes",
        "plus",
        "empty",
        "blank",
    ],
)
def test_parse_nik_refuses_with_nik_format_when_value_has_non_digits(nik: str) -> None:
    assert _error_code(parse_nik, nik) == "nik_format"


@pytest.mark.parametrize(
    "nik",
    [
        "3306 0112 0890 0001",
        "3306.0112.0890.0001",
        "3306-0112-0890-0001",
        "33.06.01.120890.0001",
        " 3306011208900001\n",
        "3306\u00a00112\u00a00890\u00a00001",
        "3306–0112–0890–0001",
    ],
    ids=["spaces", "dots", "dashes", "mixed-dots", "surrounding-whitespace", "nbsp", "en-dash"],
)
def test_parse_nik_returns_compact_nik_when_value_has_separators(nik: str) -> None:
    assert parse_nik(nik).nik == PURWOREJO_MALE
    assert validate_nik(nik) == PURWOREJO_MALE


@pytest.mark.parametrize("value", EXCEL_MANGLED)
def test_parse_nik_refuses_with_nik_excel_when_spreadsheet_used_scientific_notation(
    value: str,
) -> None:
    assert _error_code(parse_nik, value) == "nik_excel"


@pytest.mark.parametrize("value", NON_STRINGS, ids=["none", "int", "bytes", "float", "list"])
def test_parse_nik_raises_validation_error_when_value_is_not_a_string(value: object) -> None:
    assert _error_code(parse_nik, value) == "nik_format"
    assert _error_code(validate_nik, value) == "nik_format"


# Dates


@pytest.mark.parametrize(
    "nik",
    [
        "3306010008900001",
        "3306013208900001",
        "3306013002900001",
        "3306013104900001",
        "3306012902910001",
        "3306011213900001",
        "3306011200900001",
        "3306014008900001",
        "3306017208900001",
        "3306017002900001",
        "3306016902910001",
        "3306019908900001",
    ],
    ids=[
        "day-00",
        "day-32",
        "feb-30",
        "apr-31",
        "feb-29-non-leap",
        "month-13",
        "month-00",
        "female-day-40",
        "female-day-72",
        "female-feb-30-as-70",
        "female-feb-29-non-leap",
        "day-99",
    ],
)
def test_parse_nik_refuses_with_nik_date_when_encoded_date_is_impossible(nik: str) -> None:
    assert _error_code(parse_nik, nik) == "nik_date"


@pytest.mark.parametrize(
    ("nik", "sex"),
    [
        ("3306012902920001", Sex.MALE),
        ("3306016902920001", Sex.FEMALE),
        ("3306012902000001", Sex.MALE),
        ("3306016902000001", Sex.FEMALE),
    ],
    ids=["male-1992", "female-1992", "male-2000", "female-2000"],
)
def test_parse_nik_accepts_feb_29_when_year_is_leap(nik: str, sex: int) -> None:
    info = parse_nik(nik)
    assert (info.day, info.month, info.sex) == (29, 2, sex)


@pytest.mark.parametrize("day_code", range(41, 72))
def test_parse_nik_reads_female_and_day_minus_40_when_day_code_is_41_to_71(day_code: int) -> None:
    info = parse_nik(f"330601{day_code:02d}0190{1:04d}")
    assert info.sex == Sex.FEMALE
    assert info.day == day_code - 40
    assert info.birth_date_matches(datetime.date(1990, 1, day_code - 40))


@pytest.mark.parametrize("day_code", range(1, 32))
def test_parse_nik_reads_male_and_day_when_day_code_is_1_to_31(day_code: int) -> None:
    info = parse_nik(f"330601{day_code:02d}0190{1:04d}")
    assert (info.sex, info.day) == (Sex.MALE, day_code)


# Serial and region


def test_parse_nik_refuses_with_nik_serial_when_serial_is_0000() -> None:
    assert _error_code(parse_nik, "3306011208900000") == "nik_serial"


@pytest.mark.parametrize(
    "nik",
    ["9906011208900001", "9971011708450001", "0006011208900001", "2006011208900001"],
    ids=["99", "99-stdnum", "00", "20"],
)
def test_parse_nik_refuses_with_nik_region_when_province_is_unknown(nik: str) -> None:
    assert _error_code(parse_nik, nik) == "nik_region"


# Warnings


def test_nik_warnings_is_empty_when_purworejo_nik_matches_record() -> None:
    warnings = nik_warnings(PURWOREJO_FEMALE, birth_date=datetime.date(1990, 8, 12), sex=Sex.FEMALE)
    assert warnings == []


def test_nik_warnings_reports_birth_date_when_recorded_date_differs() -> None:
    with translation.override("en"):
        warnings = nik_warnings(PURWOREJO_MALE, birth_date=datetime.date(1990, 8, 13), sex=Sex.MALE)
    assert warnings == [BIRTH_DATE_WARNING]


def test_nik_warnings_reports_birth_date_when_recorded_year_differs() -> None:
    with translation.override("en"):
        warnings = nik_warnings(PURWOREJO_MALE, birth_date=datetime.date(1991, 8, 12), sex=Sex.MALE)
    assert warnings == [BIRTH_DATE_WARNING]


def test_nik_warnings_reports_sex_when_recorded_sex_differs() -> None:
    with translation.override("en"):
        warnings = nik_warnings(
            PURWOREJO_MALE, birth_date=datetime.date(1990, 8, 12), sex=Sex.FEMALE
        )
    assert warnings == [SEX_WARNING]


def test_nik_warnings_reports_outside_purworejo_when_nik_was_issued_elsewhere() -> None:
    with translation.override("en"):
        warnings = nik_warnings(
            "3171011708450001", birth_date=datetime.date(1945, 8, 17), sex=Sex.MALE
        )
    assert warnings == [OUTSIDE_WARNING]


def test_nik_warnings_reports_every_mismatch_when_all_differ() -> None:
    with translation.override("en"):
        warnings = nik_warnings(
            "3171011708450001", birth_date=datetime.date(1945, 8, 18), sex=Sex.FEMALE
        )
    assert warnings == [BIRTH_DATE_WARNING, SEX_WARNING, OUTSIDE_WARNING]


def test_nik_warnings_accepts_plain_int_sex_when_it_matches() -> None:
    assert nik_warnings(PURWOREJO_MALE, birth_date=datetime.date(1990, 8, 12), sex=1) == []


# Translation


def test_length_message_goes_through_gettext_when_language_is_english() -> None:
    with pytest.raises(ValidationError) as excinfo:
        parse_nik("330601120890000")
    assert isinstance(excinfo.value.message, Promise)
    with translation.override("en"):
        assert str(excinfo.value.messages[0]) == "NIK must be exactly 16 digits (15 given)."


# KK number


def test_validate_kk_number_returns_compact_number_when_valid() -> None:
    assert validate_kk_number("3306010201200001") == "3306010201200001"
    assert validate_kk_number("3306 0102 0120 0001") == "3306010201200001"


@pytest.mark.parametrize("value", ["330601020120000", "33060102012000011"], ids=["15", "17"])
def test_validate_kk_number_refuses_with_kk_length_when_digit_count_is_not_16(value: str) -> None:
    assert _error_code(validate_kk_number, value) == "kk_length"


@pytest.mark.parametrize(
    "value",
    [
        "33060102012000A1",
        "٣306010201200001",
        "３３０６０１０２０１２０００１",
        "3306/0102/0120/0001",
        "",
    ],
    ids=["letter", "arabic-indic", "fullwidth", "slashes", "empty"],
)
def test_validate_kk_number_refuses_with_kk_format_when_value_has_non_digits(value: str) -> None:
    assert _error_code(validate_kk_number, value) == "kk_format"


@pytest.mark.parametrize("value", NON_STRINGS, ids=["none", "int", "bytes", "float", "list"])
def test_validate_kk_number_raises_validation_error_when_value_is_not_a_string(
    value: object,
) -> None:
    assert _error_code(validate_kk_number, value) == "kk_format"


@pytest.mark.parametrize("value", ["9906010201200001", "0006010201200001"])
def test_validate_kk_number_refuses_with_kk_region_when_province_is_unknown(value: str) -> None:
    assert _error_code(validate_kk_number, value) == "kk_region"


@pytest.mark.parametrize("value", EXCEL_MANGLED)
def test_validate_kk_number_refuses_with_kk_excel_when_spreadsheet_used_scientific_notation(
    value: str,
) -> None:
    assert _error_code(validate_kk_number, value) == "kk_excel"


# Properties


@st.composite
def valid_niks(draw: st.DrawFn) -> tuple[str, str, datetime.date, int]:
    region = f"3306{draw(st.integers(min_value=1, max_value=16)):02d}"
    born = draw(
        st.dates(min_value=datetime.date(1930, 1, 1), max_value=datetime.date(2025, 12, 31))
    )
    sex = draw(st.sampled_from([Sex.MALE, Sex.FEMALE]))
    serial = draw(st.integers(min_value=1, max_value=9999))
    day = born.day + (40 if sex == Sex.FEMALE else 0)
    return f"{region}{day:02d}{born:%m%y}{serial:04d}", region, born, sex


def _parse_or_validation_error(value: object) -> NikInfo | None:
    try:
        return parse_nik(value)
    except ValidationError:
        return None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_nik_raises_only_validation_error_when_value_is_arbitrary_text(value: str) -> None:
    result = _parse_or_validation_error(value)
    assert result is None or isinstance(result, NikInfo)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=0, max_size=20))
def test_parse_nik_raises_only_validation_error_when_value_is_ascii_digits(value: str) -> None:
    if not value:
        assert _error_code(parse_nik, value) == "nik_format"
        return
    if len(value) != 16:
        assert _error_code(parse_nik, value) == "nik_length"
        return
    try:
        info = parse_nik(value)
    except ValidationError as exc:
        assert exc.code in {"nik_date", "nik_serial", "nik_region"}
    else:
        assert info.nik == value


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(categories=["Nd"]), min_size=0, max_size=20))
def test_parse_nik_raises_only_validation_error_when_value_is_any_unicode_digits(
    value: str,
) -> None:
    result = _parse_or_validation_error(value)
    assert result is None or (result.nik.isascii() and result.nik == value)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_validate_kk_number_raises_only_validation_error_when_value_is_arbitrary_text(
    value: str,
) -> None:
    try:
        result = validate_kk_number(value)
    except ValidationError:
        return
    assert len(result) == 16 and result.isascii() and result.isdigit()


@settings(max_examples=300, deadline=None)
@given(valid_niks())
def test_parse_nik_round_trips_date_and_sex_when_nik_is_generated_valid(
    generated: tuple[str, str, datetime.date, int],
) -> None:
    nik, region, born, sex = generated
    info = parse_nik(nik)
    assert info.nik == nik
    assert info.region == region
    assert info.sex == sex
    assert (info.day, info.month, info.year_2) == (born.day, born.month, born.year % 100)
    assert info.birth_date_matches(born)
    assert nik_warnings(nik, birth_date=born, sex=sex) == []


# nikgen


@pytest.mark.parametrize(
    ("region", "born", "sex", "serial", "expected"),
    [
        ("330601", datetime.date(1990, 8, 12), Sex.MALE, 1, PURWOREJO_MALE),
        ("330601", datetime.date(1990, 8, 12), Sex.FEMALE, 2, PURWOREJO_FEMALE),
        ("317101", datetime.date(1945, 8, 17), Sex.FEMALE, 1, "3171015708450001"),
        ("330616", datetime.date(2003, 12, 25), Sex.MALE, 9999, "3306162512039999"),
    ],
    ids=["purworejo-male", "purworejo-female", "jakarta-female", "max-serial"],
)
def test_make_nik_builds_expected_nik_when_arguments_are_valid(
    region: str, born: datetime.date, sex: int, serial: int, expected: str
) -> None:
    nik = make_nik(region=region, birth_date=born, sex=sex, serial=serial)
    assert nik == expected
    info = parse_nik(nik)
    assert (info.region, info.sex) == (region, sex)
    assert info.birth_date_matches(born)


def test_make_nik_returns_same_nik_when_called_twice_with_same_arguments() -> None:
    kwargs = {"region": "330606", "birth_date": datetime.date(1975, 3, 4), "sex": Sex.MALE}
    assert make_nik(**kwargs, serial=7) == make_nik(**kwargs, serial=7)
    assert make_nik(**kwargs, serial=7) != make_nik(**kwargs, serial=8)


@pytest.mark.parametrize(
    "overrides",
    [
        {"region": "33060"},
        {"region": "3306011"},
        {"region": "33060a"},
        {"region": "٣٣٠٦٠١"},
        {"region": 330601},
        {"region": "990601"},
        {"birth_date": "1990-08-12"},
        {"sex": 0},
        {"sex": 3},
        {"sex": True},
        {"serial": 0},
        {"serial": 10000},
        {"serial": -1},
        {"serial": "1"},
        {"serial": True},
    ],
    ids=lambda overrides: "-".join(f"{key}={value!r}" for key, value in overrides.items()),
)
def test_make_nik_raises_value_error_when_argument_is_invalid(overrides: dict) -> None:
    kwargs = {
        "region": "330601",
        "birth_date": datetime.date(1990, 8, 12),
        "sex": Sex.MALE,
        "serial": 1,
    }
    with pytest.raises(ValueError):
        make_nik(**{**kwargs, **overrides})


@settings(max_examples=300, deadline=None)
@given(valid_niks(), st.integers(min_value=1, max_value=9999))
def test_make_nik_round_trips_through_parse_nik_when_arguments_are_generated(
    generated: tuple[str, str, datetime.date, int], serial: int
) -> None:
    _, region, born, sex = generated
    nik = make_nik(region=region, birth_date=born, sex=sex, serial=serial)
    info = parse_nik(nik)
    assert (info.region, info.sex, nik[12:]) == (region, sex, f"{serial:04d}")
    assert info.birth_date_matches(born)


def test_make_kk_builds_region_issue_date_and_serial_when_arguments_are_valid() -> None:
    kk_number = make_kk(region="330601", issued=datetime.date(2020, 1, 2), serial=1)
    assert kk_number == "3306010201200001"
    assert validate_kk_number(kk_number) == kk_number


def test_make_kk_returns_same_number_when_called_twice_with_same_arguments() -> None:
    kwargs = {"region": "330606", "issued": datetime.date(2011, 6, 30), "serial": 42}
    assert make_kk(**kwargs) == make_kk(**kwargs) == "3306063006110042"


@pytest.mark.parametrize(
    "overrides",
    [
        {"region": "33060"},
        {"region": "33060a"},
        {"region": 330601},
        {"region": "990601"},
        {"issued": "2020-01-02"},
        {"issued": None},
        {"serial": 0},
        {"serial": 10000},
        {"serial": 1.0},
    ],
    ids=lambda overrides: "-".join(f"{key}={value!r}" for key, value in overrides.items()),
)
def test_make_kk_raises_value_error_when_argument_is_invalid(overrides: dict) -> None:
    kwargs = {"region": "330601", "issued": datetime.date(2020, 1, 2), "serial": 1}
    with pytest.raises(ValueError):
        make_kk(**{**kwargs, **overrides})


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=1, max_value=16),
    st.dates(min_value=datetime.date(1970, 1, 1), max_value=datetime.date(2025, 12, 31)),
    st.integers(min_value=1, max_value=9999),
)
def test_make_kk_round_trips_through_validate_kk_number_when_arguments_are_generated(
    kecamatan: int, issued: datetime.date, serial: int
) -> None:
    region = f"3306{kecamatan:02d}"
    kk_number = make_kk(region=region, issued=issued, serial=serial)
    assert validate_kk_number(kk_number) == kk_number
    assert kk_number == f"{region}{issued:%d%m%y}{serial:04d}"
