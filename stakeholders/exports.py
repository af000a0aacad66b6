"""Exports of what an institution may read: every resident (permanent, then non-permanent)
with the institution's readable elements only, as CSV or XLSX, produced row by row.

Every cell is text and is neutralised against formula injection (a leading apostrophe
before = + - @ tab and carriage return), so a spreadsheet never evaluates a value.
"""

import csv
import tempfile
from collections.abc import Iterable, Iterator
from typing import IO

from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from citizens.models import NonPermanentResident, PermanentResident
from stakeholders import catalogue, feed, parsing, selectors
from stakeholders.exceptions import StakeholderError
from stakeholders.models import Institution

CHUNK = 2000


class NothingToExport(StakeholderError):
    code = "no_read_authority"


def export_columns(institution: Institution) -> list[str]:
    """The export's header: the Indonesian column names of the readable elements."""
    return [catalogue.BY_FIELD[name].column for name in selectors.readable_fields(institution)]


def export_rows(institution: Institution) -> Iterator[list[str]]:
    """The header, then one neutralised row per resident; reads in chunks of CHUNK.
    Raises NothingToExport (before yielding) when the institution may read nothing."""
    fields = selectors.readable_fields(institution)
    if not fields:
        raise NothingToExport(
            _("Your institution has no agreement in force or may not read any data element.")
        )
    return _rows(fields)


def _rows(fields: list[str]) -> Iterator[list[str]]:
    yield [catalogue.BY_FIELD[name].column for name in fields]
    queries: Iterable[Iterable[PermanentResident | NonPermanentResident]] = (
        PermanentResident.objects.select_related("family__desa").order_by("pk").iterator(CHUNK),
        NonPermanentResident.objects.select_related("domicile_desa").order_by("pk").iterator(CHUNK),
    )
    for residents in queries:
        for resident in residents:
            values = feed.resident_values(resident, fields)
            yield [parsing.neutralise(value) for value in values.values()]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(institution: Institution) -> Iterator[str]:
    """CSV text, line by line (UTF-8 with a BOM so Excel reads it as UTF-8)."""
    rows = export_rows(institution)
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    return lines()


def export_xlsx(institution: Institution) -> IO[bytes]:
    """An XLSX workbook written row by row (openpyxl write-only) to a temporary file,
    rewound for streaming; every cell a string."""
    rows = export_rows(institution)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("penduduk")
    for row in rows:
        # Control characters cannot be stored in XLSX; they carry no meaning here.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", value) for value in row])
    target = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the streaming response)
    workbook.save(target)
    target.seek(0)
    return target
