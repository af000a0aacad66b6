"""Administrative areas of Purworejo Regency (33.06): the 16 kecamatan and their desa/kelurahan.

`areas_load` is the one writer of Kecamatan and Desa rows; `areas_read_csv` turns a file in the
column format of citizens/data/purworejo_areas.csv into rows for it. See docs/areas.md.
"""

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django.db import IntegrityError, transaction
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from citizens.choices import AreaKind
from citizens.exceptions import RegistryError
from citizens.models import Desa, Kecamatan

REGENCY_CODE: Final = "3306"
BUNDLED_CSV: Final = Path(__file__).resolve().parent / "data" / "purworejo_areas.csv"
COLUMNS: Final = (
    "kecamatan_code",
    "kecamatan_name",
    "desa_code",
    "desa_name",
    "kind",
    "postal_code",
    "code_is_official",
)
# Kemendagri codes of the 16 kecamatan; a village list may only refer to these.
KECAMATAN: Final[Mapping[str, str]] = {
    "330601": "Grabag",
    "330602": "Ngombol",
    "330603": "Purwodadi",
    "330604": "Bagelen",
    "330605": "Kaligesing",
    "330606": "Purworejo",
    "330607": "Banyuurip",
    "330608": "Bayan",
    "330609": "Kutoarjo",
    "330610": "Butuh",
    "330611": "Pituruh",
    "330612": "Kemiri",
    "330613": "Bruno",
    "330614": "Gebang",
    "330615": "Loano",
    "330616": "Bener",
}
# Digit 7 of a Kemendagri village code: 1 for a kelurahan, 2 for a desa.
KIND_DIGIT: Final[Mapping[str, str]] = {AreaKind.KELURAHAN: "1", AreaKind.DESA: "2"}
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no"})
_NAME_MAX = Desa._meta.get_field("name").max_length


def _interpolate(template: object, values: Mapping[str, object]) -> str:
    return str(template) % {key: str(value) for key, value in values.items()}


_interpolate_lazy = lazy(_interpolate, str)


def _message(template: object, **values: object) -> str:
    """A message translated when it is shown, so a view can render it in the user's language."""
    return _interpolate_lazy(template, values)


class InvalidAreaData(RegistryError):
    """A village list that cannot be loaded; `line` is its line in the file (header = line 1)."""

    message = _("The list of villages could not be loaded.")

    def __init__(self, message: object = None, *, line: int | None = None) -> None:
        self.line = line
        if line is not None and message is not None:
            message = _message(_("Line %(line)s: %(problem)s"), line=line, problem=message)
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class AreasLoadResult:
    kecamatan_created: int = 0
    kecamatan_updated: int = 0
    kecamatan_unchanged: int = 0
    villages_created: int = 0
    villages_updated: int = 0
    villages_unchanged: int = 0


@dataclass(frozen=True, slots=True)
class _Village:
    line: int
    kecamatan_code: str
    code: str
    name: str
    kind: str
    postal_code: str
    official: bool


def _name_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "", name).casefold()


def _parse_row(line: int, row: Mapping[str, str]) -> _Village:
    values: dict[str, str] = {}
    for column in COLUMNS:
        value = row.get(column)
        if value is None:
            raise InvalidAreaData(
                _message(_("the column %(column)s is missing."), column=column), line=line
            )
        values[column] = value.strip()

    kecamatan_code = values["kecamatan_code"]
    if not re.fullmatch(rf"{REGENCY_CODE}[0-9]{{2}}", kecamatan_code):
        raise InvalidAreaData(
            _message(
                _("kecamatan code %(code)s is not 6 digits starting with %(regency)s."),
                code=repr(kecamatan_code),
                regency=REGENCY_CODE,
            ),
            line=line,
        )
    if kecamatan_code not in KECAMATAN:
        raise InvalidAreaData(
            _message(
                _("kecamatan code %(code)s is not one of the 16 kecamatan of Purworejo."),
                code=kecamatan_code,
            ),
            line=line,
        )
    if _name_key(values["kecamatan_name"]) != _name_key(KECAMATAN[kecamatan_code]):
        raise InvalidAreaData(
            _message(
                _("kecamatan %(code)s is %(expected)s, not %(given)s."),
                code=kecamatan_code,
                expected=KECAMATAN[kecamatan_code],
                given=repr(values["kecamatan_name"]),
            ),
            line=line,
        )

    code = values["desa_code"]
    if not re.fullmatch(r"[0-9]{10}", code) or not code.startswith(kecamatan_code):
        raise InvalidAreaData(
            _message(
                _("village code %(code)s is not 10 digits starting with %(kecamatan)s."),
                code=repr(code),
                kecamatan=kecamatan_code,
            ),
            line=line,
        )

    name = values["desa_name"]
    if not name or len(name) > _NAME_MAX:
        raise InvalidAreaData(
            _message(_("the village name must have 1 to %(max)s characters."), max=_NAME_MAX),
            line=line,
        )

    kind = values["kind"].lower()
    if kind not in KIND_DIGIT:
        raise InvalidAreaData(
            _message(_("kind %(kind)s is neither desa nor kelurahan."), kind=repr(values["kind"])),
            line=line,
        )
    if code[6] != KIND_DIGIT[kind]:
        raise InvalidAreaData(
            _message(
                _("code %(code)s has %(digit)s as 7th digit; a %(kind)s code has %(expected)s."),
                code=code,
                digit=code[6],
                kind=kind,
                expected=KIND_DIGIT[kind],
            ),
            line=line,
        )

    postal_code = values["postal_code"]
    if postal_code and not re.fullmatch(r"[0-9]{5}", postal_code):
        raise InvalidAreaData(
            _message(
                _("postal code %(postal_code)s is not 5 digits."), postal_code=repr(postal_code)
            ),
            line=line,
        )

    official = values["code_is_official"].lower()
    if official not in _TRUE | _FALSE:
        raise InvalidAreaData(
            _message(
                _("code_is_official %(value)s is neither true nor false."),
                value=repr(values["code_is_official"]),
            ),
            line=line,
        )

    return _Village(
        line=line,
        kecamatan_code=kecamatan_code,
        code=code,
        name=name,
        kind=kind,
        postal_code=postal_code,
        official=official in _TRUE,
    )


def _parse_rows(rows: Iterable[Mapping[str, str]]) -> list[_Village]:
    villages: list[_Village] = []
    seen_codes: dict[str, int] = {}
    seen_names: dict[tuple[str, str], int] = {}
    for line, row in enumerate(rows, start=2):
        village = _parse_row(line, row)
        name_key = (village.kecamatan_code, village.name.casefold())
        if village.code in seen_codes:
            raise InvalidAreaData(
                _message(
                    _("village code %(code)s is already used on line %(other)s."),
                    code=village.code,
                    other=seen_codes[village.code],
                ),
                line=line,
            )
        if name_key in seen_names:
            raise InvalidAreaData(
                _message(
                    _("village %(name)s is already listed in this kecamatan on line %(other)s."),
                    name=village.name,
                    other=seen_names[name_key],
                ),
                line=line,
            )
        seen_codes[village.code] = line
        seen_names[name_key] = line
        villages.append(village)
    return villages


def _kecamatan_upsert() -> tuple[dict[str, Kecamatan], dict[str, int]]:
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {k.code: k for k in Kecamatan.objects.filter(code__in=KECAMATAN)}
    for code, name in KECAMATAN.items():
        kecamatan = existing.get(code)
        if kecamatan is None:
            existing[code] = Kecamatan.objects.create(code=code, name=name)
            counts["created"] += 1
        elif kecamatan.name != name:
            kecamatan.name = name
            kecamatan.save(update_fields=["name"])
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return existing, counts


def _village_apply(
    village: _Village,
    *,
    kecamatan: Kecamatan,
    by_code: dict[str, Desa],
    by_name: dict[tuple[int, str], Desa],
) -> str:
    """Create or update one village; returns "created", "updated" or "unchanged"."""
    name_key = (kecamatan.pk, village.name.casefold())
    namesake = by_name.get(name_key)
    desa = by_code.get(village.code)
    if desa is not None and desa.code_is_official and not village.official:
        return "unchanged"  # a provisional list never overrides official data
    if desa is None and namesake is not None:
        if namesake.code_is_official:
            if not village.official:
                return "unchanged"
            raise InvalidAreaData(
                _message(
                    _("village %(name)s already has the official code %(existing)s."),
                    name=village.name,
                    existing=namesake.code,
                ),
                line=village.line,
            )
        desa = namesake  # a provisional code replaced, e.g. by the official one
    elif desa is not None and namesake is not None and namesake.pk != desa.pk:
        raise InvalidAreaData(
            _message(
                _("village name %(name)s is already used by code %(other)s in this kecamatan."),
                name=village.name,
                other=namesake.code,
            ),
            line=village.line,
        )

    wanted = {
        "code": village.code,
        "name": village.name,
        "kind": village.kind,
        "postal_code": village.postal_code,
        "code_is_official": village.official,
    }
    if desa is None:
        desa = Desa.objects.create(kecamatan=kecamatan, **wanted)
        outcome = "created"
    else:
        changed = [field for field, value in wanted.items() if getattr(desa, field) != value]
        if not changed:
            return "unchanged"
        by_code.pop(desa.code, None)
        by_name.pop((kecamatan.pk, desa.name.casefold()), None)
        for field in changed:
            setattr(desa, field, wanted[field])
        desa.save(update_fields=changed)
        outcome = "updated"
    by_code[desa.code] = desa
    by_name[name_key] = desa
    return outcome


def areas_load(*, rows: Iterable[Mapping[str, str]]) -> AreasLoadResult:
    """Upsert the 16 built-in kecamatan and the given villages, matched by code.

    Idempotent: loading the same rows again changes nothing. Villages missing from `rows` are
    kept, never deleted. A village whose code is new but whose name already exists in its
    kecamatan with a provisional (non-official) code takes the new code. Every row is validated
    before anything is written; on any error nothing is changed and InvalidAreaData names the line.
    """
    villages = _parse_rows(rows)
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    line: int | None = None
    try:
        with transaction.atomic():
            kecamatan, kecamatan_counts = _kecamatan_upsert()
            desa_rows = list(Desa.objects.filter(kecamatan__code__in=KECAMATAN))
            by_code = {d.code: d for d in desa_rows}
            by_name = {(d.kecamatan_id, d.name.casefold()): d for d in desa_rows}
            for village in villages:
                line = village.line
                outcome = _village_apply(
                    village,
                    kecamatan=kecamatan[village.kecamatan_code],
                    by_code=by_code,
                    by_name=by_name,
                )
                counts[outcome] += 1
    except IntegrityError as exc:
        if line is None:
            raise InvalidAreaData(
                _("The kecamatan were changed by another load at the same time; try again.")
            ) from exc
        raise InvalidAreaData(
            _("this row clashes with a village already stored (its code or its name)."),
            line=line,
        ) from exc
    return AreasLoadResult(
        kecamatan_created=kecamatan_counts["created"],
        kecamatan_updated=kecamatan_counts["updated"],
        kecamatan_unchanged=kecamatan_counts["unchanged"],
        villages_created=counts["created"],
        villages_updated=counts["updated"],
        villages_unchanged=counts["unchanged"],
    )


def areas_read_csv(path: Path | str) -> list[dict[str, str]]:
    """Rows of a UTF-8 CSV file with a header naming at least COLUMNS (in any order).

    Each row occupies exactly one line, so the line numbers in InvalidAreaData are the
    file's. Raises InvalidAreaData for a file that cannot be read, is not UTF-8, lacks a
    column, has a row of the wrong width or an empty line between rows.
    """
    rows: list[dict[str, str]] = []
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            header = [name.strip().lower() for name in next(reader, [])]
            missing = [column for column in COLUMNS if column not in header]
            if missing:
                raise InvalidAreaData(
                    _message(
                        _(
                            "The file has no column %(columns)s. The first line must name the "
                            "columns %(expected)s."
                        ),
                        columns=", ".join(missing),
                        expected=",".join(COLUMNS),
                    )
                )
            blank_line: int | None = None
            for record in reader:
                if not record:
                    blank_line = blank_line or reader.line_num
                    continue
                if blank_line is not None:
                    raise InvalidAreaData(_("the line is empty."), line=blank_line)
                expected_line = len(rows) + 2
                if reader.line_num != expected_line:
                    raise InvalidAreaData(_("a value runs over several lines."), line=expected_line)
                if len(record) != len(header):
                    raise InvalidAreaData(
                        _message(
                            _("the line has %(found)s values but the header has %(expected)s."),
                            found=len(record),
                            expected=len(header),
                        ),
                        line=reader.line_num,
                    )
                rows.append(dict(zip(header, record, strict=True)))
    except UnicodeDecodeError as exc:
        raise InvalidAreaData(
            _("The file is not encoded as UTF-8. Save it as CSV UTF-8 and try again.")
        ) from exc
    except csv.Error as exc:
        raise InvalidAreaData(
            _message(_("The file is not a valid CSV file: %(reason)s"), reason=exc)
        ) from exc
    except OSError as exc:
        raise InvalidAreaData(
            _message(
                _("The file %(path)s cannot be read: %(reason)s"),
                path=path,
                reason=exc.strerror or exc,
            )
        ) from exc
    return rows
