"""CSV cells that a spreadsheet will not run (OWASP's CSV injection rule).

Names, sources and message text come from strangers: a name typed as `=HYPERLINK(...)` or
`@SUM(...)` would run as a formula in the organizer's spreadsheet. A text cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, which spreadsheets show
as text and do not evaluate.
"""
import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe(value) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def table(header: list[str], rows: Iterable[Iterable]) -> str:
    """The CSV text of a header and rows, every text cell made safe."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe(cell) for cell in row] for row in rows)
    return out.getvalue()
