"""Institution files (CSV or XLSX) into rows of text, with every check that does not need the
registry: size, encoding, delimiter, zip bombs and XML entity payloads, header, formula
cells, duplicate NIKs.

The file type is recognised from its content, never from its name. CSV is read with the
standard csv module and XLSX with openpyxl in read-only mode (through defusedxml, which
openpyxl uses when it is installed): both keep the line of every row for the error report.
"""

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from citizens.spreadsheet import FORMULA_PREFIXES
from stakeholders import catalogue
from stakeholders.choices import UploadFormat

MAX_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MAX_COLUMNS = 60
# Limits on an XLSX's zip directory, read before anything is decompressed.
MAX_XLSX_UNCOMPRESSED = 400 * 1024 * 1024
MAX_XLSX_RATIO = 200
MAX_XLSX_MEMBERS = 500
ZIP_SIGNATURE = b"PK\x03\x04"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_DATE_FORMATS = (
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{2}-\d{2}-\d{4}$"), "%d-%m-%Y"),
    (re.compile(r"^\d{2}/\d{2}/\d{4}$"), "%d/%m/%Y"),
)


class FileRefused(Exception):
    """The whole file is refused; `message` says why, for the institution admin."""

    def __init__(self, code: str, message: Promise | str) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


@dataclass
class ParsedRow:
    line: int  # the line (CSV) or sheet row (XLSX) where the row starts
    number: int  # its position among the data rows, from 1
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)


@dataclass
class ParsedFile:
    kind: str  # "csv" or "xlsx"
    columns: list[str]
    rows: list[ParsedRow]


def sniff_kind(head: bytes) -> str:
    """ "xlsx" for a zip container, "csv" for anything else (checked as text later)."""
    return "xlsx" if head.startswith(ZIP_SIGNATURE) else "csv"


def parse_date(text: str) -> datetime.date | None:
    """YYYY-MM-DD, DD-MM-YYYY or DD/MM/YYYY; None for any other form or an impossible date."""
    text = text.strip()
    for pattern, fmt in _DATE_FORMATS:
        if pattern.match(text):
            try:
                return datetime.datetime.strptime(text, fmt).date()
            except ValueError:
                return None
    return None


def parse_file(content: bytes, *, format: UploadFormat, by_position: bool = False) -> ParsedFile:
    """Parse a whole file and check its header and rows. Raises FileRefused.

    by_position (an API batch, kept as CSV): rows are numbered by their position from 1, as
    the client sent them, in every message; none is skipped as blank."""
    if len(content) > MAX_BYTES:
        raise FileRefused("too_large", _("The file is larger than 50 MB."))
    if not content.strip():
        raise FileRefused("empty", _("The file is empty."))
    if sniff_kind(content) == "xlsx":
        kind, records = "xlsx", _xlsx_records(content)
    else:
        kind, records = "csv", _csv_records(_decode(content))
    _line, header = next(records, (0, []))
    columns = check_header(header, format=format)
    rows = _rows(columns, records, by_position=by_position)
    if not rows:
        raise FileRefused("no_rows", _("The file has a header but no data rows."))
    return ParsedFile(kind=kind, columns=columns, rows=rows)


def precheck(content: bytes, *, format: UploadFormat) -> str:
    """The file-level checks only (size, encoding, container, header), quick enough for the
    upload request; returns "csv" or "xlsx". Raises FileRefused."""
    if len(content) > MAX_BYTES:
        raise FileRefused("too_large", _("The file is larger than 50 MB."))
    if not content.strip():
        raise FileRefused("empty", _("The file is empty."))
    kind = sniff_kind(content)
    records = _xlsx_records(content) if kind == "xlsx" else _csv_records(_decode(content))
    _line, header = next(records, (0, []))
    check_header(header, format=format)
    if next(records, None) is None:
        raise FileRefused("no_rows", _("The file has a header but no data rows."))
    return kind


def parse_records(records: Sequence[dict[str, str]], *, format: UploadFormat) -> ParsedFile:
    """Already-parsed rows (the API): the same header and row checks as a file. Every row
    must carry the same keys as the first; line numbers are positions from 1."""
    if not records:
        raise FileRefused("no_rows", _("The batch has no rows."))
    columns = check_header(list(records[0]), format=format)
    rows: list[ParsedRow] = []
    seen: dict[str, list[ParsedRow]] = {}
    for number, record in enumerate(records, start=1):
        if [key.strip().lower() for key in record] != columns:
            raise FileRefused(
                "ragged",
                _("Row %(number)s does not have the same fields as the first row.")
                % {"number": number},
            )
        row = ParsedRow(
            line=number, number=number, values=dict(zip(columns, record.values(), strict=True))
        )
        _check_cells(row, seen)
        rows.append(row)
    _mark_duplicates(seen)
    return ParsedFile(kind="api", columns=columns, rows=rows)


def _decode(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_utf16(content[:4096]):
        raise FileRefused(
            "utf16",
            _(
                'The file is encoded as UTF-16 (Excel\'s "Unicode text"). Save it as '
                '"CSV UTF-8 (comma delimited)" and upload it again.'
            ),
        )
    if b"\x00" in content:
        raise FileRefused("binary", _("This is not a CSV text file or an XLSX workbook."))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileRefused(
            "not_utf8",
            _(
                "The file is not UTF-8 text (it looks like Latin-1 or Windows-1252). Save it "
                'as "CSV UTF-8 (comma delimited)" and upload it again.'
            ),
        ) from None
    if _CONTROL.search(text):
        raise FileRefused("binary", _("This is not a CSV text file or an XLSX workbook."))
    return text


def _looks_utf16(head: bytes) -> bool:
    # ASCII text in UTF-16 has a zero byte in every other position.
    if len(head) < 4:
        return False
    zeros_odd = head[1::2].count(0)
    zeros_even = head[0::2].count(0)
    half = len(head) // 2
    return max(zeros_odd, zeros_even) > half * 0.6


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=False)
    start = 1
    try:
        for record in reader:
            yield start, record
            start = reader.line_num + 1
    except csv.Error:
        raise FileRefused(
            "csv_broken", _("The CSV file is damaged near line %(line)s.") % {"line": start}
        ) from None


def _xlsx_guard(content: bytes) -> zipfile.ZipFile:
    """Open the zip and refuse it before decompressing anything large: the sizes in its
    directory bound what zipfile will ever produce. DTDs never occur in a real workbook, so
    any part declaring one is refused too (entity expansion, external entities)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError):
        raise FileRefused("xlsx_broken", _("The XLSX workbook is damaged.")) from None
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise FileRefused("binary", _("This is not a CSV text file or an XLSX workbook."))
    total = sum(member.file_size for member in members)
    ratio = max((member.file_size / max(member.compress_size, 1) for member in members), default=0)
    if len(members) > MAX_XLSX_MEMBERS or total > MAX_XLSX_UNCOMPRESSED or ratio > MAX_XLSX_RATIO:
        raise FileRefused(
            "xlsx_bomb",
            _("The XLSX workbook expands to far more data than a spreadsheet holds: refused."),
        )
    for member in members:
        if member.filename.endswith((".xml", ".rels")) and _declares_dtd(archive, member):
            raise FileRefused(
                "xlsx_entities",
                _("The XLSX workbook contains XML declarations that are not allowed: refused."),
            )
    return archive


def _declares_dtd(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = chunk[-16:]
    return False


def _xlsx_records(content: bytes) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    archive = _xlsx_guard(content)
    archive.close()
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds of errors for a malformed workbook
        raise FileRefused("xlsx_broken", _("The XLSX workbook is damaged.")) from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(
            sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
        ):
            cells = [_cell_text(value) for value in values]
            while cells and cells[-1] == "":
                cells.pop()
            yield number, cells
    except FileRefused:
        raise
    except Exception:
        raise FileRefused("xlsx_broken", _("The XLSX workbook is damaged.")) from None
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        # A long number in a numeric cell (a NIK) has lost digits already: show it as the
        # spreadsheet does, so the NIK check names the cause.
        if abs(value) >= 1e11:
            return f"{value:.5E}"
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, int):
        return f"{float(value):.5E}" if abs(value) >= 10**15 else str(value)
    return str(value)


def check_header(header: Sequence[str], *, format: UploadFormat) -> list[str]:
    """The header's column names, normalised; refused when one is missing, unknown or
    repeated."""
    columns = [name.strip().lower() for name in header]
    while columns and columns[-1] == "":
        columns.pop()
    if not columns:
        raise FileRefused("empty", _("The file is empty."))
    if format == UploadFormat.ROSTER:
        required: tuple[str, ...] = catalogue.ROSTER_COLUMNS
        allowed = {*required, *catalogue.ROSTER_F115_COLUMNS}
    else:
        required = catalogue.IDENTITY_COLUMNS
        allowed = {
            element.column for element in catalogue.ELEMENTS if element.writable and element.column
        }
        allowed |= {*required, catalogue.EFFECTIVE_DATE_COLUMN}
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        raise FileRefused(
            "duplicate_columns",
            _("These columns appear more than once: %(columns)s.")
            % {"columns": ", ".join(repeated)},
        )
    missing = [name for name in required if name not in columns]
    if missing:
        raise FileRefused(
            "missing_columns",
            _("These required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)},
        )
    unknown = [name or "(kosong)" for name in columns if name not in allowed]
    if unknown:
        raise FileRefused(
            "unknown_columns",
            _("These columns are not part of the format: %(columns)s.")
            % {"columns": ", ".join(unknown)},
        )
    if format == UploadFormat.FIELD_UPDATE and len(columns) == len(required):
        raise FileRefused(
            "no_fields", _("The file has no column to update besides the identity columns.")
        )
    return columns


def _rows(
    columns: list[str], records: Iterator[tuple[int, list[str]]], *, by_position: bool = False
) -> list[ParsedRow]:
    rows: list[ParsedRow] = []
    seen: dict[str, list[ParsedRow]] = {}
    for line, cells in records:
        if not by_position and not any(cell.strip() for cell in cells):
            continue  # blank lines between rows are harmless
        if len(rows) >= MAX_ROWS:
            raise FileRefused(
                "too_many_rows",
                _("The file has more than %(count)s rows: split it.") % {"count": MAX_ROWS},
            )
        number = len(rows) + 1
        row = ParsedRow(line=number if by_position else line, number=number, values={})
        if len(cells) != len(columns):
            row.errors.append(
                str(
                    _("The row has %(found)s cells where the header has %(expected)s.")
                    % {"found": len(cells), "expected": len(columns)}
                )
            )
        row.values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(columns)}
        _check_cells(row, seen)
        rows.append(row)
    _mark_duplicates(seen)
    return rows


def _check_cells(row: ParsedRow, seen: dict[str, list[ParsedRow]]) -> None:
    formulas = [name for name, value in row.values.items() if is_formula(value)]
    if formulas:
        row.errors.append(
            str(
                _("Cells that start with =, +, - or @ are not accepted (formulas): %(columns)s.")
                % {"columns": ", ".join(formulas)}
            )
        )
    nik = row.values.get("nik", "").strip()
    if nik:
        seen.setdefault(nik, []).append(row)


def _mark_duplicates(seen: dict[str, list[ParsedRow]]) -> None:
    """Every row of a NIK sent more than once is an error: which one is right is unknown."""
    for rows in seen.values():
        if len(rows) > 1:
            lines = ", ".join(str(row.line) for row in rows)
            for row in rows:
                row.errors.append(
                    str(
                        _("The same NIK appears more than once, on lines %(lines)s.")
                        % {"lines": lines}
                    )
                )


def is_formula(value: str) -> bool:
    return value.lstrip(" ").startswith(FORMULA_PREFIXES)
