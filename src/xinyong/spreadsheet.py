"""Every CSV the platform writes, written so that a spreadsheet never runs a cell as a formula.

A provider's cell or a record's text that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is a
formula to Excel, WPS and LibreOffice when the file is opened (CSV injection: `=HYPERLINK(...)` or
`=cmd|' /C calc'!A0` in a 违法事实 cell). OWASP's rule is applied to every cell: such a cell is written
with a single quote in front, which the spreadsheet shows as text and never evaluates. A plain number
(`-3`, `+86`, `-0.5`) is left alone: it cannot be a formula, and a provider's feedback file must give its
amounts back as sent.

The feedback file (collect) and the public exports (disclose) both write through `csv_text`; they are
siblings that never import each other, so the helper lives here, below both. XLSX files are written with
`write_string` and `strings_to_formulas=False` instead (`text_workbook`), which stores text as text.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

BOM = "\ufeff"  # office spreadsheet programs read UTF-8 without one as GBK and garble every Chinese character
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def safe_cell(value: Any) -> str:
    """The cell as text a spreadsheet shows and never evaluates (None → empty)."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.match(text):
        return "'" + text
    return text


def csv_text(headers: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = True) -> str:
    """A whole CSV file (CRLF line ends, a BOM by default), every cell through `safe_cell`."""
    buffer = io.StringIO()
    if bom:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in headers])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def text_workbook(buffer: io.BytesIO) -> tuple[Any, Any, Any]:
    """(an in-memory XLSX workbook, a text cell format, a header format) for files of data given back.

    The input is data, never a formula, a number or a link: '=1+1' and '00012' come back as sent."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "num_format": "@"})
    return book, text, head


def about_sheet(book: Any, lines: Sequence[tuple[str, str]], *, label_width: int) -> None:
    """The 说明 sheet: one (label, text) pair a row, what the file is and what to do with it."""
    sheet = book.add_worksheet("说明")
    sheet.set_column(0, 0, label_width)
    sheet.set_column(1, 1, 90)
    for i, (label, value) in enumerate(lines):
        sheet.write_string(i, 0, label)
        sheet.write_string(i, 1, value)
