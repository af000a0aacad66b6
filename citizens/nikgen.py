"""Deterministic NIK and KK number builder for tests and the demo seeder.

The same arguments always give the same number, and every number it returns passes
`citizens.nik`; bad arguments raise ValueError instead of producing an invalid number.
"""

import datetime

from django.core.exceptions import ValidationError

from citizens.choices import Sex
from citizens.nik import parse_nik, validate_kk_number


def _check_region(region: str) -> None:
    if not (isinstance(region, str) and len(region) == 6 and region.isascii() and region.isdigit()):
        raise ValueError("region must be a 6-digit string (province, regency, kecamatan)")


def _check_date(value: datetime.date, name: str) -> None:
    if not isinstance(value, datetime.date):
        raise ValueError(f"{name} must be a datetime.date")


def _check_serial(serial: int) -> None:
    if isinstance(serial, bool) or not isinstance(serial, int) or not 1 <= serial <= 9999:
        raise ValueError("serial must be an integer from 1 to 9999")


def make_nik(*, region: str, birth_date: datetime.date, sex: int, serial: int) -> str:
    """Build a NIK: 6-digit region, DDMMYY birth date (day + 40 for women), 4-digit serial.

    Raises ValueError when an argument is out of range or the region's province is unknown.
    """
    _check_region(region)
    _check_date(birth_date, "birth_date")
    if isinstance(sex, bool) or sex not in (Sex.MALE, Sex.FEMALE):
        raise ValueError("sex must be Sex.MALE or Sex.FEMALE")
    _check_serial(serial)
    day = birth_date.day + (40 if sex == Sex.FEMALE else 0)
    nik = f"{region}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
    try:
        return parse_nik(nik).nik
    except ValidationError as exc:
        raise ValueError(f"cannot build a valid NIK: {exc.code}") from exc


def make_kk(*, region: str, issued: datetime.date, serial: int) -> str:
    """Build a KK number: 6-digit region, DDMMYY issue date, 4-digit serial.

    Raises ValueError when an argument is out of range or the region's province is unknown.
    """
    _check_region(region)
    _check_date(issued, "issued")
    _check_serial(serial)
    kk_number = f"{region}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial:04d}"
    try:
        return validate_kk_number(kk_number)
    except ValidationError as exc:
        raise ValueError(f"cannot build a valid KK number: {exc.code}") from exc
