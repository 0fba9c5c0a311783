"""The one CSV writer: a cell a spreadsheet would run as a formula is written as text (OWASP's rule)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from xinyong.spreadsheet import BOM, csv_text, safe_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://evil.example","点我")', '\'=HYPERLINK("http://evil.example","点我")'),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-", "'-"),
    ],
)
def test_formula_cells_get_a_quote(value: str, written: str) -> None:
    assert safe_cell(value) == written


@pytest.mark.parametrize(
    "value", ["-3", "+86", "-0.5", "1.5e3", "武汉华信科技有限公司", "2026-06-15", "", "a=b"]
)
def test_ordinary_cells_and_plain_numbers_are_kept(value: str) -> None:
    assert safe_cell(value) == value  # a number cannot be a formula, and amounts go back as sent


def test_csv_text_has_a_bom_crlf_and_safe_cells() -> None:
    text = csv_text(["名称", "=金额"], [["=cmd|' /C calc'!A0", None], ["华信", -3]])
    assert text.startswith(BOM) and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["名称", "'=金额"], ["'=cmd|' /C calc'!A0", ""], ["华信", "-3"]]


def test_the_xlsx_writer_keeps_data_as_text_and_explains_the_file(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    from xinyong.spreadsheet import about_sheet, text_workbook

    buffer = io.BytesIO()
    book, text, head = text_workbook(buffer)
    sheet = book.add_worksheet("数据")
    sheet.write_string(0, 0, "代码 / code", head)
    for row, value in enumerate(["=1+1", "00012", "http://example.org"], start=1):
        sheet.write_string(row, 0, value, text)
    about_sheet(book, [("文件 / file", "a.csv")], label_width=24)
    book.close()
    path = tmp_path / "out.xlsx"
    path.write_bytes(buffer.getvalue())
    read = CalamineWorkbook.from_path(str(path))
    assert read.sheet_names == ["数据", "说明"]
    assert read.get_sheet_by_name("数据").to_python() == [
        ["代码 / code"],
        ["=1+1"],
        ["00012"],
        ["http://example.org"],
    ]
    assert read.get_sheet_by_name("说明").to_python() == [["文件 / file", "a.csv"]]
