"""NIK and KK number validation.

Structure (length, digits, date, serial, region) is checked with python-stdnum plus the rules
stdnum leaves out. A NIK whose date or sex disagrees with a record already in the registry, or
that was issued in another regency, is valid: NIKs are not reissued after a correction or a
move, so those are warnings (`nik_warnings`) for officers and the data-quality report. A NIK
that a submission gives a new record (a birth, an arrival, a stay) must agree with the person
(`nik_disagreements`): the approval refuses it otherwise, so nobody is registered under a
number they can never link their account with.
"""

import datetime
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import numdb
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.id import nik as stdnum_nik

from citizens import choices

PURWOREJO_REGENCY = "3306"
# Kemendagri province codes that stdnum's id/loc data lacks: Kalimantan Utara (formed 2012) and
# the Papua provinces 92-96 (stdnum follows the older BPS numbering there). Without them, NIKs
# issued in those provinces would be refused.
_PROVINCES_MISSING_FROM_STDNUM = frozenset({"65", "92", "93", "95", "96"})
_SCIENTIFIC = re.compile(r"^\s*\d(?:[.,]\d+)?\s*[eE]\s*\+?\s*\d+\s*$")


@dataclass(frozen=True)
class NikInfo:
    nik: str
    region: str
    sex: int
    day: int
    month: int
    year_2: int

    def birth_date_matches(self, birth_date: datetime.date) -> bool:
        return (self.day, self.month, self.year_2) == (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        )


def _has_non_ascii_digit(value: str) -> bool:
    return any(char.isdigit() and not char.isascii() for char in value)


def _clean(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError(_("NIK must be written as 16 digits."), code="nik_format")
    if _SCIENTIFIC.match(value):
        raise ValidationError(
            _(
                "This NIK was changed by a spreadsheet into scientific notation "
                "(e.g. 3.30601E+15). Format the column as text and enter all 16 digits."
            ),
            code="nik_excel",
        )
    # stdnum's compact() silently turns fullwidth and mathematical digits into ASCII ones.
    compact = stdnum_nik.compact(value)
    if _has_non_ascii_digit(value) or not compact.isascii() or not compact.isdigit():
        raise ValidationError(_("NIK may contain digits only."), code="nik_format")
    if len(compact) != 16:
        raise ValidationError(
            _("NIK must be exactly 16 digits (%(count)s given)."),
            code="nik_length",
            params={"count": len(compact)},
        )
    return compact


def _region_known(code: str) -> bool:
    """Whether the first two digits name a province.

    Only the province is checked, as stdnum does: its regency list is older than the current
    Kemendagri list, and refusing a real resident's NIK is worse than accepting a typo there.
    """
    return _province_known(code[:2])


@functools.cache
def _province_known(province: str) -> bool:
    # Cached: the numdb lookup dominates bulk validation (imports, seeding).
    if province in _PROVINCES_MISSING_FROM_STDNUM:
        return True
    try:
        return bool(numdb.get("id/loc").info(province)[0][1])
    except (IndexError, KeyError, StdnumError):
        return False


def parse_nik(value: object) -> NikInfo:
    """Validate a NIK's structure and return what it encodes. Raises ValidationError only."""
    nik = _clean(value)
    day_code, month, year_2 = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    female = day_code > 40
    day = day_code - 40 if female else day_code
    if not 1 <= day <= 31 or not 1 <= month <= 12:
        raise ValidationError(
            _("The birth date encoded in this NIK is impossible."), code="nik_date"
        )
    try:
        stdnum_nik.get_birth_date(nik)
    except StdnumError:
        raise ValidationError(
            _("The birth date encoded in this NIK is impossible."), code="nik_date"
        ) from None
    if nik[12:] == "0000":
        raise ValidationError(_("The serial number of a NIK cannot be 0000."), code="nik_serial")
    if not _region_known(nik):
        raise ValidationError(_("The region code in this NIK does not exist."), code="nik_region")
    return NikInfo(
        nik=nik,
        region=nik[:6],
        sex=choices.Sex.FEMALE if female else choices.Sex.MALE,
        day=day,
        month=month,
        year_2=year_2,
    )


def validate_nik(value: object) -> str:
    """Django validator: return the compact NIK or raise ValidationError in the user's language."""
    return parse_nik(value).nik


def nik_disagreements(nik: str, *, birth_date: datetime.date, sex: int) -> list[str]:
    """Where a valid NIK disagrees with the person it is given to: its date part (digits 7 to
    12, DDMMYY, day plus 40 for women) against the date of birth, and the sex. Raises
    ValidationError if the NIK itself is not valid. The messages name no value."""
    info = parse_nik(nik)
    found = []
    if not info.birth_date_matches(birth_date):
        found.append(
            str(_("The date of birth encoded in the NIK (digits 7 to 12) is not the person's."))
        )
    if info.sex != sex:
        found.append(str(_("The sex encoded in the NIK is not the person's.")))
    return found


def nik_warnings(nik: str, *, birth_date: datetime.date, sex: int) -> list[str]:
    """Mismatches that officers should see but that never block a record."""
    info = parse_nik(nik)
    warnings = []
    if not info.birth_date_matches(birth_date):
        warnings.append(str(_("The birth date in the NIK differs from the recorded birth date.")))
    if info.sex != sex:
        warnings.append(str(_("The sex encoded in the NIK differs from the recorded sex.")))
    if not info.nik.startswith(PURWOREJO_REGENCY):
        warnings.append(str(_("This NIK was issued outside Purworejo Regency.")))
    return warnings


def validate_kk_number(value: object) -> str:
    """A KK number is 16 digits whose first two name a known province."""
    if not isinstance(value, str):
        raise ValidationError(_("KK number must be written as 16 digits."), code="kk_format")
    if _SCIENTIFIC.match(value):
        raise ValidationError(
            _(
                "This KK number was changed by a spreadsheet into scientific notation. "
                "Format the column as text and enter all 16 digits."
            ),
            code="kk_excel",
        )
    compact = stdnum_nik.compact(value)
    if _has_non_ascii_digit(value) or not compact.isascii() or not compact.isdigit():
        raise ValidationError(_("KK number may contain digits only."), code="kk_format")
    if len(compact) != 16:
        raise ValidationError(
            _("KK number must be exactly 16 digits (%(count)s given)."),
            code="kk_length",
            params={"count": len(compact)},
        )
    if not _region_known(compact):
        raise ValidationError(
            _("The region code in this KK number does not exist."), code="kk_region"
        )
    return compact
