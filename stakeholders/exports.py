"""Exports of what an institution may read: every resident (permanent, then non-permanent)
with the institution's readable elements only, as CSV or XLSX, produced row by row.

Every cell is text and is neutralised against formula injection (a leading apostrophe
before = + - @ tab and carriage return), so a spreadsheet never evaluates a value.
"""

import tempfile
from collections.abc import Iterator
from typing import IO

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from citizens import services as registry
from citizens.choices import AccessPurpose, Registry
from citizens.models import AnyResident, NonPermanentResident, PermanentResident
from citizens.spreadsheet import csv_writer, neutralise
from stakeholders import catalogue, feed, selectors
from stakeholders.exceptions import StakeholderError
from stakeholders.models import Institution

CHUNK = 2000


class NothingToExport(StakeholderError):
    code = "no_read_authority"


def export_columns(institution: Institution) -> list[str]:
    """The export's header: the Indonesian column names of the readable elements."""
    return [catalogue.BY_FIELD[name].column for name in selectors.readable_fields(institution)]


def export_rows(institution: Institution) -> Iterator[list[str]]:
    """The header, then one neutralised row per resident in the institution's scope
    (stakeholders.policy: its roster, or the population its agreement names); reads in
    chunks of CHUNK and logs each chunk's residents as read by the institution before
    handing it out. Raises NothingToExport (before yielding) when the institution may read
    nothing."""
    fields = selectors.readable_fields(institution)
    if not fields:
        raise NothingToExport(
            _("Your institution has no agreement in force or may not read any data element.")
        )
    return _rows(institution, fields)


def _rows(institution: Institution, fields: list[str]) -> Iterator[list[str]]:
    yield [catalogue.BY_FIELD[name].column for name in fields]
    sources: tuple[tuple[type[AnyResident], Registry, str], ...] = (
        (PermanentResident, Registry.PERMANENT, "family__desa"),
        (NonPermanentResident, Registry.NON_PERMANENT, "domicile_desa"),
    )
    with translation.override(settings.LANGUAGE_CODE):
        reason = gettext("Data export")
    scopes = selectors.read_scopes(institution)
    for model, registry_name, related in sources:
        last = 0
        while True:
            # Keyset pages: each chunk is read, logged, then written out.
            page: list[AnyResident] = list(
                selectors.residents_in_scope(institution, model, scopes=scopes)
                .select_related(related)
                .filter(pk__gt=last)
                .order_by("pk")[:CHUNK]
            )
            if not page:
                break
            registry.access_log_record_many(
                registry=registry_name,
                record_ids=[resident.pk for resident in page],
                purpose=AccessPurpose.INSTITUTION_READ,
                actor_label=institution.name,
                reason=reason,
            )
            for resident in page:
                values = feed.resident_values(resident, fields)
                yield [neutralise(value) for value in values.values()]
            last = page[-1].pk


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_csv(institution: Institution) -> Iterator[str]:
    """CSV text, line by line (UTF-8 with a BOM so Excel reads it as UTF-8)."""
    rows = export_rows(institution)
    writer = csv_writer(_Echo())

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
