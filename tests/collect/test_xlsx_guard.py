"""Looking inside an xlsx before the Excel reader loads it: true unpacked size, and no cell over the limit."""

from __future__ import annotations

import io
import zipfile
from html import escape
from pathlib import Path

import pytest

from xinyong.collect import xlsx_guard
from xinyong.collect.xlsx_guard import XlsxFault, inspect_xlsx

LIMIT = 32_767


def workbook(path: Path, *cells: str) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for row, value in enumerate(cells):
        sheet.write_string(row, 0, value)
    book.close()
    return path


def with_long_cell(path: Path, text: str) -> Path:
    """A workbook whose second cell holds `text`: written into the XML, since xlsxwriter (like Excel)
    cuts strings at 32,767 characters."""
    workbook(path, "表头", "PLACEHOLDER")
    shared = zipfile.ZipFile(path).read("xl/sharedStrings.xml")
    return _rewrite(path, {"xl/sharedStrings.xml": shared.replace(b"PLACEHOLDER", escape(text).encode())})


def _inspect(path: Path, *, max_unpacked: int = 1 << 30) -> XlsxFault | None:
    return inspect_xlsx(path, max_unpacked=max_unpacked, max_cell_chars=LIMIT)


@pytest.fixture(params=[xlsx_guard.BLOCK, 5, 4096], ids=["block", "tiny-5", "4k"])
def block(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Small blocks put text runs across block edges."""
    monkeypatch.setattr(xlsx_guard, "BLOCK", request.param)
    return int(request.param)


def test_cells_at_the_limit_pass_however_spelled(tmp_path: Path, block: int) -> None:
    # 32,767 Chinese characters are 98,301 bytes of XML, and 32,767 "&" are 163,835 ("&amp;"): both are
    # within Excel's limit and must pass; the byte length alone would refuse them.
    path = workbook(tmp_path / "a.xlsx", "信" * LIMIT, "&" * LIMIT, "<" * 100, "普通文字")
    assert _inspect(path) is None


@pytest.mark.parametrize("text", ["信" * (LIMIT + 1), "&" * (LIMIT + 1), "a" * (LIMIT * 11)])
def test_a_cell_over_the_limit_is_found(tmp_path: Path, block: int, text: str) -> None:
    fault = _inspect(with_long_cell(tmp_path / "a.xlsx", text))
    assert fault is not None and fault.kind == "cell_too_long" and fault.size > LIMIT


def test_unpacked_size_is_counted_not_trusted(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", "x" * 20_000)
    assert _inspect(path, max_unpacked=100_000) is None
    fault = _inspect(path, max_unpacked=10_000)
    assert fault is not None and fault.kind == "too_big" and fault.size > 10_000


def _rewrite(path: Path, change: dict[str, bytes], *, declared: int | None = None) -> Path:
    """A copy of the workbook with some parts replaced; `declared` forges the sizes its headers claim."""
    source = zipfile.ZipFile(path)
    out = path.with_name("forged.xlsx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, change.get(info.filename, source.read(info.filename)))
    if declared is None:
        return out
    data = bytearray(out.read_bytes())
    for info in zipfile.ZipFile(out).infolist():  # central directory and local headers both lie
        data[info.header_offset + 22 : info.header_offset + 26] = declared.to_bytes(4, "little")
    start = data.rfind(b"PK\x01\x02", 0)
    while start != -1:
        data[start + 24 : start + 28] = declared.to_bytes(4, "little")
        start = data.rfind(b"PK\x01\x02", 0, start)
    out.write_bytes(bytes(data))
    return out


def test_a_part_that_lies_about_its_size_is_measured(tmp_path: Path) -> None:
    bomb = b"<sst><si><t>" + b"A" * 3_000_000 + b"</t></si></sst>"
    path = _rewrite(workbook(tmp_path / "a.xlsx", "x"), {"xl/sharedStrings.xml": bomb}, declared=100)
    fault = _inspect(path, max_unpacked=1_000_000)
    assert fault is not None and fault.kind in ("too_big", "cell_too_long")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04garbage", b"plain text", io.BytesIO().getvalue()])
def test_not_a_zip(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(content)
    assert _inspect(path) == XlsxFault("not_zip")
