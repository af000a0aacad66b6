"""Cells for CSV and XLSX files people open in a spreadsheet: text that a spreadsheet would run
as a formula gets a leading apostrophe. One rule for every download of the portal.

A spreadsheet set up for Indonesian splits a CSV line on `;`, not `,`, and may ignore the
quotes around a field, so a cell is safe only when no piece of it, split on `;`, `,` or a line
break, starts (after blanks) with `= + - @`, or starts with a tab or carriage return: each such
piece gets its own apostrophe. Every field is quoted (`csv.QUOTE_ALL`).

Numbers: a value that is an `int`, `float` or `Decimal` (never `bool`) is written as it is, so a
genuinely negative figure in a numeric column stays a number (-3, not '-3); a number cannot
carry a formula. Text that merely looks like a number ("-3") is neutralised like any text.

`csv_writer()` is the only place the portal makes a csv writer
(`tests/security/test_csv_injection.py` walks the code for others).
"""

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Protocol

FORMULA_PREFIXES = ("=", "+", "-", "@")
_PIECE_START = re.compile(r"(^|[;,\r\n])(?=[\t\r]|[^\S\r\n]*[=+\-@])")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralise(value: object) -> str:
    """A cell safe to open in a spreadsheet (None is an empty cell): an apostrophe before
    every piece (split on `;`, `,`, line breaks) that a spreadsheet could read as a formula.
    Applying it twice changes nothing more."""
    text = "" if value is None else str(value)
    return _PIECE_START.sub(lambda match: match.group(1) + "'", text)


def cell(value: object) -> str | int | float | Decimal:
    """A CSV field: numbers as they are, everything else neutralised text."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return neutralise(value)


class CsvWriter:
    """csv.writer with every field quoted and neutralised (see the module docstring)."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out, quoting=csv.QUOTE_ALL)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: _Writable) -> CsvWriter:
    """The portal's writer for every CSV a person may open (downloads, reports, e-mails)."""
    return CsvWriter(out)


def data_csv_writer(out: _Writable) -> Any:
    """A writer for a CSV only the portal itself reads back (an API batch kept to be
    validated): every field quoted, values unchanged, since they are data, not a download."""
    return csv.writer(out, quoting=csv.QUOTE_ALL)
