"""Cells for CSV and XLSX files people open in a spreadsheet: text that a spreadsheet would run
as a formula gets a leading apostrophe. One rule for every download of the portal."""

FORMULA_PREFIXES = ("=", "+", "-", "@")


def neutralise(value: object) -> str:
    """A cell safe to open in a spreadsheet (None is an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith((*FORMULA_PREFIXES, "\t", "\r")) else text
