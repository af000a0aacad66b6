"""The hostile test corpus: every file is built in code at test time (the 60 MB file and the
zip bomb included), so nothing large or dangerous is committed.

Each builder takes the NIK, name and birth date of a real test resident, so that a file
which would be accepted shows what it would have changed.
"""

import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass

from openpyxl import Workbook

HEADER = ["nik", "nama_lengkap", "tanggal_lahir", "pendidikan"]
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)


@dataclass(frozen=True)
class Person:
    nik: str
    name: str
    birth: str  # YYYY-MM-DD


@dataclass(frozen=True)
class Case:
    name: str
    filename: str
    build: Callable[[Person], bytes]
    refusal: str = ""  # the FileRefused code, or "" when the file is taken in
    row_error: str = ""  # a phrase of the expected row error, or "" when the row applies


def text(*lines: str, encoding: str = "utf-8") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def row(person: Person, *, nik: str | None = None, birth: str | None = None, value: str = "8"):
    return f"{person.nik if nik is None else nik},{person.name},{birth or person.birth},{value}"


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Data")
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rewrite_zip(content: bytes, replace: dict[str, bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            if member.filename not in replace:
                target.writestr(member.filename, source.read(member.filename))
        for name, data in replace.items():
            target.writestr(name, data)
    return buffer.getvalue()


def sixty_megabytes(person: Person) -> bytes:
    filler = (row(person, nik="3306061705900001") + "\r\n").encode()
    return text(",".join(HEADER)) + filler * (60 * 1024 * 1024 // len(filler) + 1)


def zip_bomb(person: Person) -> bytes:
    valid = workbook([HEADER, [person.nik, person.name, person.birth, "8"]])
    # 64 MB of spaces deflate to about 64 KB: a ratio no spreadsheet reaches.
    return rewrite_zip(valid, {"xl/worksheets/sheet2.xml": b" " * (64 * 1024 * 1024)})


def entity_expansion(person: Person) -> bytes:
    valid = workbook([HEADER, [person.nik, person.name, person.birth, "8"]])
    sheet = zipfile.ZipFile(io.BytesIO(valid)).read("xl/worksheets/sheet1.xml").decode()
    body = sheet.split("?>", 1)[1] if sheet.startswith("<?xml") else sheet
    poisoned = LAUGHS + body.replace(person.name, "&lol9;")
    return rewrite_zip(valid, {"xl/worksheets/sheet1.xml": poisoned.encode()})


def binary(person: Person) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64


CASES = [
    Case("utf16", "data.csv", lambda p: text(",".join(HEADER), row(p), encoding="utf-16"), "utf16"),
    Case(
        "utf16-no-bom",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p), encoding="utf-16-le"),
        "utf16",
    ),
    Case(
        "latin1",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p).replace(p.name, "SÜTI ÇAKRA"), encoding="latin-1"),
        "not_utf8",
    ),
    Case(
        "bom-semicolons",
        "data.csv",
        lambda p: text(";".join(HEADER), row(p).replace(",", ";"), encoding="utf-8-sig"),
    ),
    Case(
        "missing-column",
        "data.csv",
        lambda p: text("nik,nama_lengkap,pendidikan", f"{p.nik},{p.name},8"),
        "missing_columns",
    ),
    Case(
        "extra-column",
        "data.csv",
        lambda p: text(",".join([*HEADER, "warna_favorit"]), row(p) + ",biru"),
        "unknown_columns",
    ),
    Case(
        "duplicated-column",
        "data.csv",
        lambda p: text(",".join([*HEADER, "pendidikan"]), row(p) + ",9"),
        "duplicate_columns",
    ),
    Case("header-only", "data.csv", lambda p: text(",".join(HEADER)), "no_rows"),
    Case("empty", "data.csv", lambda p: b"", "empty"),
    Case(
        "duplicate-nik",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p), row(p, value="9")),
        row_error="more than once",
    ),
    Case(
        "nik-too-short",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p, nik=p.nik[:15])),
        row_error="exactly 16 digits",
    ),
    Case(
        "nik-too-long",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p, nik=p.nik + "1")),
        row_error="exactly 16 digits",
    ),
    Case(
        "nik-excel-mangled",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p, nik="3.30601E+15")),
        row_error="scientific notation",
    ),
    Case(
        "nik-excel-mangled-xlsx",
        "data.xlsx",
        lambda p: workbook([HEADER, [int(p.nik), p.name, p.birth, "8"]]),
        row_error="scientific notation",
    ),
    Case(
        "nik-impossible-date",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p, nik=p.nik[:6] + "3302" + p.nik[10:])),
        row_error="impossible",
    ),
    Case(
        "impossible-birth-date",
        "data.csv",
        lambda p: text(",".join(HEADER), row(p, birth="31-02-1990")),
        row_error="impossible",
    ),
    Case(
        "formula-cell",
        "data.csv",
        lambda p: text(
            ",".join(HEADER), row(p, value='"=HYPERLINK(""http://evil.example"",""klik"")"')
        ),
        row_error="formulas",
    ),
    Case(
        "formula-cell-xlsx",
        "data.xlsx",
        lambda p: workbook([HEADER, [p.nik, p.name, p.birth, '=HYPERLINK("http://x.example")']]),
        row_error="formulas",
    ),
    Case("sixty-megabytes", "data.csv", sixty_megabytes, "too_large"),
    Case("zip-bomb", "data.xlsx", zip_bomb, "xlsx_bomb"),
    Case("entity-expansion", "data.xlsx", entity_expansion, "xlsx_entities"),
    Case("binary-renamed-csv", "data.csv", binary, "binary"),
    Case("path-traversal-name", "../../x.csv", lambda p: text(",".join(HEADER), row(p))),
]
