"""Read a provider's file into a table of strings, whatever its format and encoding.

Every cell comes out as text (or null): types are the validator's business, and the provider's original
value must survive to the feedback file unchanged. The encoding is detected, never guessed silently:
UTF-8 (with or without BOM) is tried strictly, then GB18030 (a superset of GBK and GB2312); a file that
is neither is refused and the batch records which encoding was used.

Whatever a file holds, reading it ends in a table or in a refusal (a ProblemError with a stable code), never
in a crash, and no refusal quotes the file's content: a message names rows and columns by number, because a
cell may hold an ID number or a person's name. Limits (policy `collection.reading`) keep one upload from
exhausting memory: CSV records and xlsx parts are measured in their bytes before a parser reads them.

Headers need not be on the first row: providers put a title (“2026年6月行政处罚信息”) above them. The header
is the row among the first few that matches the most catalogue fields (a `header_score` the caller
passes), or the row the provider names.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import polars as pl

from xinyong.collect import csv_layout
from xinyong.collect.xlsx_guard import inspect_xlsx
from xinyong.policy.loader import load_policy
from xinyong.policy.models import Policy
from xinyong.problems import Problem, ProblemError

log = logging.getLogger(__name__)

FORMATS = ("csv", "xlsx", "xls", "json", "jsonl")
_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".json": "json"}
_SUFFIX |= {".jsonl": "jsonl", ".ndjson": "jsonl"}
# A hidden column of the frame (no header can contain NUL): the headers of a row's cells that Excel stored
# as numbers of 16 digits or more, whose digits past the 15th Excel had already replaced by zeros.
LOST_DIGITS = "\x00lost_digits"
# Excel keeps 15 significant digits of a number: a longer one (an 18-digit ID number typed into a cell
# formatted as a number) has lost its last digits before the file was saved.
_EXCEL_DIGITS = 15
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # NUL and lone surrogates: no database stores them

HeaderScore = Callable[[Sequence[str | None]], int]


@dataclass(frozen=True)
class ReadLimits:
    """The policy's `collection.reading` ceilings, as the reader uses them."""

    cell_max_chars: int
    record_max_bytes: int
    columns_max: int
    xlsx_max_uncompressed_bytes: int
    header_search_rows: int
    header_row_max: int

    @classmethod
    def from_policy(cls, policy: Policy | None = None) -> ReadLimits:
        reading = (policy or load_policy()).collection.reading
        return cls(**{name: getattr(reading, name).value for name in cls.__dataclass_fields__})


class ReadResult:
    """A provider's file as text cells: `batches()` streams it (a CSV is never held whole); `frame` is all.

    `header_row` is the file's row number of the header; `row_numbers_for` gives each data row's own number
    as the provider sees it (Excel's row numbers, empty rows and title rows counted).
    """

    def __init__(
        self,
        *,
        format: str,
        encoding: str | None,
        headers: list[str],
        frame: pl.DataFrame | None = None,
        csv: Path | BinaryIO | None = None,
        record_ends: np.ndarray | None = None,
        header_row: int = 1,
        row_numbers: list[int] | None = None,
    ) -> None:
        self.format = format
        self.encoding = encoding
        self.headers = headers
        self.header_row = header_row
        self._frame = frame
        self._csv = csv
        # For a CSV: the byte offset where the data starts, then the end of each data record.
        self._ends = record_ends
        self._row_numbers = row_numbers
        self.height = (
            frame.height if frame is not None else len(record_ends) - 1 if record_ends is not None else 0
        )

    def batches(self, size: int) -> Iterator[pl.DataFrame]:
        if self._csv is None or self._ends is None:
            frame = self.frame
            for start in range(0, frame.height, size):
                yield frame.slice(start, size)
            return
        # Cut at record ends the layout scan found, each chunk parsed on its own: memory holds one chunk,
        # whatever the file's size, and each chunk must come out with exactly its records (a row merged or
        # dropped by the parser would otherwise vanish without a word).
        # A header line of our own gives the parser the width (rows may be shorter); names are set after.
        header = ",".join(f"c{i}" for i in range(len(self.headers))).encode() + b"\n"
        with contextlib.ExitStack() as stack:
            fh = self._csv if not isinstance(self._csv, Path) else stack.enter_context(self._csv.open("rb"))
            for first in range(0, self.height, size):
                last = min(first + size, self.height)
                offset, length = int(self._ends[first]), int(self._ends[last] - self._ends[first])
                text = os.pread(fh.fileno(), length, offset)  # no shared file position: safe in any thread
                try:
                    batch = pl.read_csv(io.BytesIO(header + text), infer_schema=False)
                except (pl.exceptions.PolarsError, pl.exceptions.PanicException) as exc:
                    raise ProblemError(_csv_unreadable()) from exc
                if batch.height != last - first or batch.width != len(self.headers):
                    raise ProblemError(_csv_unreadable())
                batch.columns = self.headers
                yield batch

    def row_numbers_for(self, start: int, height: int) -> pl.Series:
        """The file's row numbers of data rows start … start + height - 1."""
        if self._row_numbers is not None:
            return pl.Series(self._row_numbers[start : start + height], dtype=pl.Int64)
        first = self.header_row + 1 + start
        return pl.int_range(first, first + height, dtype=pl.Int64, eager=True)

    @property
    def frame(self) -> pl.DataFrame:
        if self._frame is None:
            self._frame = (
                pl.concat(list(self.batches(1 << 20)))
                if self.height
                else pl.DataFrame(schema={h: pl.String for h in self.headers})
            )
        return self._frame


def detect_format(path: Path, declared: str | None = None) -> str:
    if declared:
        if declared not in FORMATS:
            raise ProblemError(_unsupported(declared))
        return declared
    fmt = _SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise ProblemError(_unsupported(path.suffix or path.name))
    return fmt


def read_file(
    path: Path,
    *,
    fmt: str | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    header_score: HeaderScore | None = None,
    limits: ReadLimits | None = None,
) -> ReadResult:
    """The file as text cells, or a ProblemError saying why not.

    `header_row` (1-based) names the header row of a CSV or Excel file; otherwise the row among the first
    `header_search_rows` with the best `header_score` is the header (the first non-empty row if none
    scores).
    """
    fmt = detect_format(path, fmt)
    limits = limits or ReadLimits.from_policy()
    header = _HeaderChoice(header_row, header_score, limits)
    try:
        if fmt == "csv":
            return _read_csv(path, header, limits)
        if fmt in ("xlsx", "xls"):
            return _read_excel(path, fmt, sheet, header, limits)
        return _read_json(path, fmt, limits)
    except ProblemError:
        raise
    except (Exception, pl.exceptions.PanicException) as exc:
        # A parser's own failure on a hostile file (a Rust parser panics as a BaseException): the file is
        # refused, and the log says which parser gave up — never the message, which may quote a cell.
        log.warning("refused a %s file its parser could not read (%s)", fmt, type(exc).__name__)
        raise ProblemError(_unreadable(fmt)) from exc


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030: the first that decodes the whole file strictly."""
    with path.open("rb") as fh:
        head = fh.read(4)
    candidates = ["utf-8-sig"] if head.startswith(codecs.BOM_UTF8) else ["utf-8", "gb18030"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    raise ProblemError(
        Problem(
            "file.encoding",
            "无法识别文件编码：文件既不是 UTF-8 也不是 GB18030/GBK"
            + ("（看起来是 UTF-16，即 Excel 的“Unicode 文本”）" if utf16 else "")
            + "。请用 Excel 或 WPS 另存为“CSV UTF-8”后重新上传。",
            "Unknown encoding: the file is neither UTF-8 nor GB18030/GBK"
            + (" (it looks like UTF-16, Excel's 'Unicode Text')" if utf16 else "")
            + ". Save it as 'CSV UTF-8' and send it again.",
        )
    )


def _decodes(path: Path, encoding: str, sink: Callable[[str], object] | None = None) -> bool:
    """Whether the whole file decodes strictly; the text goes to `sink` as it is decoded, if given."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    write = sink or (lambda _text: None)
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 22):
                write(decoder.decode(block))
            write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        return False
    return True


def _csv_encoding(path: Path) -> tuple[str, BinaryIO | None]:
    """detect_encoding for a CSV, and for a GB18030 one its UTF-8 copy (polars reads UTF-8 only), written
    while the file is checked: one decoding pass, not one to detect and one to transcode. A GB18030 file
    fails UTF-8 within its first block, so that try costs little.

    The copy is an anonymous temporary file: it has no name on disk, so it holds the provider's cells
    (ID numbers among them) only as long as the read needs it, and a killed process leaves nothing behind."""
    with path.open("rb") as fh:
        bom = fh.read(4).startswith(codecs.BOM_UTF8)
    if not bom and _decodes(path, "utf-8"):
        return "utf-8", None
    if not bom:
        copy = tempfile.TemporaryFile(suffix=".csv")  # noqa: SIM115 - the ReadResult owns and closes it
        if _decodes(path, "gb18030", sink=lambda text: copy.write(text.encode("utf-8"))):
            copy.flush()
            return "gb18030", copy
        copy.close()
    return detect_encoding(path), None  # utf-8-sig, or the refusal that names what the file is


# ------------------------------------------------------------------------------------------- the header


@dataclass(frozen=True)
class _HeaderChoice:
    requested: int | None
    score: HeaderScore | None
    limits: ReadLimits

    @property
    def rows_needed(self) -> int:
        return max(self.limits.header_search_rows, self.requested or 0)

    def pick(self, rows: Sequence[Sequence[str | None]]) -> int:
        """The 0-based index of the header among `rows` (the file's first rows)."""
        if self.requested is not None:
            return self._requested(rows)
        best, best_score = None, 0
        if self.score is not None:
            for index, row in enumerate(rows[: self.limits.header_search_rows]):
                if not _blank(row) and (score := self.score(row)) > best_score:
                    best, best_score = index, score
        if best is None:
            best = next((i for i, row in enumerate(rows) if not _blank(row)), None)
        if best is None:
            raise ProblemError(_empty())
        return best

    def found_none(self, rows: Sequence[Sequence[str | None]], index: int) -> bool:
        """No row the search looked at names a field: the caller will refuse the file for its columns,
        and nothing below the guessed header needs reading."""
        return self.requested is None and self.score is not None and self.score(rows[index]) == 0

    def _requested(self, rows: Sequence[Sequence[str | None]]) -> int:
        limit = self.limits.header_row_max
        if not 1 <= (self.requested or 0) <= limit:
            raise ProblemError(
                Problem(
                    "file.header_row",
                    f"表头行号应在 1 到 {limit} 之间，收到 {self.requested}",
                    f"The header row must be between 1 and {limit}; got {self.requested}",
                )
            )
        index = int(self.requested or 0) - 1
        if index >= len(rows) or _blank(rows[index]):
            raise ProblemError(
                Problem(
                    "file.header_row",
                    f"指定的表头行（第 {index + 1} 行）不存在或是空行，请核对表头所在的行号",
                    f"The header row named (row {index + 1}) does not exist or is empty; check its number",
                )
            )
        return index


def _blank(row: Sequence[str | None]) -> bool:
    return not any(cell not in (None, "") and str(cell).strip() for cell in row)


def _header_names(cells: Sequence[str | None], width: int) -> list[str]:
    """The header row's cells as column names: printable, unique, an empty cell named by its position."""
    names = []
    for i in range(width):
        cell = cells[i] if i < len(cells) else None
        text = _UNSTORABLE.sub("\ufffd", str(cell)) if cell not in (None, "") else ""
        names.append(text if text.strip() else f"列{i + 1}")
    return _unique(names)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}#{seen[h]}")
    return out


def _check_width(width: int, limits: ReadLimits) -> None:
    if width > limits.columns_max:
        raise ProblemError(
            Problem(
                "file.too_many_columns",
                f"文件有 {width} 列，超过上限 {limits.columns_max} 列（Excel 工作表的列数上限），未读取",
                f"The file has {width} columns, more than the limit of {limits.columns_max} "
                "(Excel's own column limit); it was not read",
            )
        )


# ----------------------------------------------------------------------------------------------- CSV


def _read_csv(path: Path, header: _HeaderChoice, limits: ReadLimits) -> ReadResult:
    encoding, transcoded = _csv_encoding(path)
    try:
        return _read_csv_as(path, encoding, transcoded, header, limits)
    except BaseException:
        if transcoded is not None:
            transcoded.close()
        raise


def _read_csv_as(
    path: Path, encoding: str, transcoded: BinaryIO | None, header: _HeaderChoice, limits: ReadLimits
) -> ReadResult:
    """`transcoded`: the file's UTF-8 copy when it is not UTF-8 (the caller removes it on a refusal)."""
    start = len(codecs.BOM_UTF8) if encoding == "utf-8-sig" else 0
    if path.stat().st_size <= start:
        raise ProblemError(_empty())
    first = csv_layout.head(path, start=start, records=header.rows_needed, max_bytes=limits.record_max_bytes)
    if first.fault:
        raise ProblemError(_csv_fault(first.fault, limits))
    rows = _head_rows(path, first, encoding)
    index = header.pick(rows)
    width = len(rows[index])
    _check_width(width, limits)
    if header.found_none(rows, index):
        headers = _header_names(rows[index], width)
        empty = pl.DataFrame(schema={h: pl.String for h in headers})
        if transcoded is not None:  # nothing to read: the copy goes now
            transcoded.close()
        return ReadResult(frame=empty, format="csv", encoding=encoding, headers=headers, header_row=index + 1)
    layout = csv_layout.scan(path, start=start, max_bytes=limits.record_max_bytes, header=index, width=width)
    if layout.fault:
        raise ProblemError(_csv_fault(layout.fault, limits))
    expected = layout.records - index - 1
    if expected <= 0:
        raise ProblemError(_no_rows())
    source: Path | BinaryIO = transcoded if transcoded is not None else path
    # Where the records end in the text the parser reads (the UTF-8 copy of a GB18030 file has other byte
    # offsets, the same records): the header's end, then each data record's.
    ends = csv_layout.record_ends(source, start=0 if transcoded else start)[index:]
    if len(ends) != expected + 1:
        raise ProblemError(_csv_unreadable())
    result = ReadResult(
        format="csv",
        encoding=encoding,
        headers=_header_names(rows[index], width),
        csv=source,
        record_ends=ends,
        header_row=index + 1,
    )
    return result  # it owns the transcoded copy: closed (and so gone) with it


def _head_rows(path: Path, layout: csv_layout.Layout, encoding: str) -> list[list[str]]:
    """The first records, parsed one by one along the scan's record boundaries (the authority: a parser
    that splits a record differently, as Python's csv does at a bare CR, must not shift the rows)."""
    assert layout.starts is not None
    starts = layout.starts
    with path.open("rb") as fh:
        fh.seek(starts[0])
        data = fh.read(starts[-1] - starts[0])
    csv.field_size_limit(max(csv.field_size_limit(), len(data)))
    rows = []
    for begin, end in itertools.pairwise(starts):
        record = data[begin - starts[0] : end - starts[0]].removesuffix(b"\n").removesuffix(b"\r")
        text = record.decode("gb18030" if encoding == "gb18030" else "utf-8")
        try:
            rows.append(next(csv.reader([text]), []))
        except csv.Error:  # a bare CR or the like: good enough to look for a header in
            rows.append(text.split(","))
    return rows


def _csv_fault(fault: csv_layout.Fault, limits: ReadLimits) -> Problem:
    row = fault.record + 1
    if fault.kind == "too_long":
        return Problem(
            "file.record_too_long",
            f"CSV 文件第 {row} 行超过单行上限 {limits.record_max_bytes} 字节，整个文件未入库；"
            "请检查该行是否粘贴了大段内容，或把文件拆分后重新报送",
            f"Row {row} of the CSV file is longer than the limit of {limits.record_max_bytes} bytes per "
            "row; nothing was loaded. Check that row for pasted bulk content, and send again",
        )
    if fault.kind == "too_wide":
        return Problem(
            "file.csv",
            f"CSV 文件第 {row} 行有 {fault.size} 列，多于表头的列数，无法确定各列对应关系，整个文件未入库；"
            "请检查该行是否多了逗号",
            f"Row {row} of the CSV file has {fault.size} cells, more than the header; the columns cannot "
            "be matched and nothing was loaded. Check that row for extra commas",
        )
    if fault.kind == "unclosed":
        return Problem(
            "file.csv",
            f"CSV 文件第 {row} 行开始的引号直到文件结尾都没有闭合，无法逐行读取，整个文件未入库；"
            "请用 Excel 或 WPS 重新另存为 CSV",
            f"A quote opened in row {row} of the CSV file is never closed, so the file cannot be read row "
            "by row and nothing was loaded. Save it again as CSV from Excel or WPS",
        )
    return Problem(
        "file.csv",
        f"CSV 文件第 {row} 行的引号用法不正确（单元格中间出现引号，或闭合引号后还有字符），"
        "无法准确分行，整个文件未入库；请用 Excel 或 WPS 重新另存为 CSV",
        f"Row {row} of the CSV file has a misplaced quote (inside a cell, or text after a closing quote), "
        "so its rows cannot be told apart and nothing was loaded. Save it again as CSV from Excel or WPS",
    )


def _csv_unreadable() -> Problem:
    return Problem(
        "file.csv",
        "CSV 文件格式有误，无法逐行读取，整个文件未入库；请用 Excel 或 WPS 重新另存为 CSV 后报送",
        "The CSV file is malformed and cannot be read row by row; nothing was loaded. "
        "Save it again as CSV from Excel or WPS and send it",
    )


# --------------------------------------------------------------------------------------------- Excel


def _read_excel(
    path: Path, fmt: str, sheet: str | None, header: _HeaderChoice, limits: ReadLimits
) -> ReadResult:
    from python_calamine import CalamineWorkbook

    with path.open("rb") as fh:
        magic = fh.read(len(_OLE))
    if magic.startswith(_ZIP):
        fault = inspect_xlsx(
            path, max_unpacked=limits.xlsx_max_uncompressed_bytes, max_cell_chars=limits.cell_max_chars
        )
        if fault is not None:
            raise ProblemError(_xlsx_fault(fault.kind, limits))
    elif not magic.startswith(_OLE):
        raise ProblemError(_not_excel(fmt))
    book = CalamineWorkbook.from_path(str(path))
    names = [_shown(n) for n in book.sheet_names]
    if sheet is not None and sheet not in book.sheet_names:
        raise ProblemError(
            Problem(
                "file.sheet",
                f"工作簿中没有名为“{_shown(sheet)}”的工作表；现有工作表：{'、'.join(names)}",
                f"The workbook has no sheet named '{_shown(sheet)}'; it has: {', '.join(names)}",
            )
        )
    if not book.sheet_names:
        raise ProblemError(_empty())
    chosen = book.get_sheet_by_name(sheet or book.sheet_names[0])
    _check_width(chosen.width, limits)
    cells = chosen.to_python(skip_empty_area=True)
    top = chosen.start[0] + 1 if cells and chosen.start else 1  # the sheet row of cells[0]
    del chosen, book  # the reader's own copy of the sheet: as big again as the Python rows
    head = [[_cell_text(c)[0] for c in row] for row in cells[: header.rows_needed]]
    index = header.pick(head)
    width = max(len(head[index]), 1)
    headers = _header_names(head[index], width)
    numbers: list[int] = []
    body: list[list[str | None]] = []
    lost: list[list[str] | None] = []
    for offset, row in enumerate(cells[index + 1 :], start=index + 1):
        texts, flags = [], []
        for i, value in enumerate(row[:width]):
            text, digits_lost = _cell_text(value)
            texts.append(text)
            if digits_lost:
                flags.append(headers[i])
        if all(t in (None, "") for t in texts):
            continue  # an empty row between data rows is not a row the provider sent
        body.append(texts + [None] * (width - len(texts)))
        numbers.append(top + offset)
        lost.append(flags or None)
    if not body:
        raise ProblemError(_no_rows())
    columns: dict[str, list[object]] = {h: [row[i] for row in body] for i, h in enumerate(headers)}
    schema: dict[str, pl.DataType] = {h: pl.String() for h in headers}
    frame = pl.DataFrame(columns, schema=schema)
    if any(lost):
        frame = frame.with_columns(pl.Series(LOST_DIGITS, lost, dtype=pl.List(pl.String)))
    return ReadResult(
        frame=frame,
        format=fmt,
        encoding=None,
        headers=headers,
        header_row=top + index,
        row_numbers=numbers,
    )


def _cell_text(value: object) -> tuple[str | None, bool]:
    """Excel's typed cell back to the text a clerk typed: 44256.0 -> '44256', a date cell -> '2021-03-05';
    and whether it was a number too long for Excel to have kept whole."""
    if value is None or value == "":
        return None, False
    if isinstance(value, bool):
        return ("1" if value else "0"), False
    if isinstance(value, float):
        if not value.is_integer():
            return repr(value), False
        if abs(value) >= 10**_EXCEL_DIGITS:  # shown as Excel shows it: 15 digits, then zeros
            return str(int(float(f"{value:.{_EXCEL_DIGITS}g}"))), True
        return str(int(value)), False
    if isinstance(value, dt.datetime):
        return (value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    return str(value), False


def _xlsx_fault(kind: str, limits: ReadLimits) -> Problem:
    if kind == "too_big":
        limit_mb = limits.xlsx_max_uncompressed_bytes >> 20
        return Problem(
            "file.too_big",
            f"工作簿解压后超过 {limit_mb} MB 上限，未读取；请按月份或地区拆分，或导出为 CSV 后报送",
            f"The workbook unpacks to more than the {limit_mb} MB limit and was not read; split it by "
            "month or region, or export it as CSV",
        )
    if kind == "cell_too_long":
        return Problem(
            "file.cell_too_long",
            f"工作簿中有单元格超过 {limits.cell_max_chars} 个字符（Excel 单元格的上限），"
            "文件不是 Excel 正常保存的，未读取；请检查后用 Excel 或 WPS 重新保存",
            f"A cell of the workbook is longer than {limits.cell_max_chars} characters (Excel's own cell "
            "limit), so Excel did not save it as it is; it was not read. Check it and save it again",
        )
    return Problem(
        "file.excel",
        "工作簿的压缩格式无法读取（可能已损坏或加密），未读取；请用 Excel 或 WPS 重新保存为 .xlsx 后报送",
        "The workbook's packaging cannot be read (damaged or encrypted); save it again as .xlsx and send it",
    )


def _not_excel(fmt: str) -> Problem:
    return Problem(
        "file.excel",
        f"文件扩展名是 .{fmt}，但内容不是 Excel 工作簿（可能是文本、网页或其他文件改了扩展名）；"
        "请用 Excel 或 WPS 打开后另存为 .xlsx，或按实际格式报送",
        f"The file is named .{fmt} but is not an Excel workbook (perhaps text or a web page renamed); "
        "open it in Excel or WPS and save it as .xlsx, or send it in its real format",
    )


# ---------------------------------------------------------------------------------------------- JSON


def _read_json(path: Path, fmt: str, limits: ReadLimits) -> ReadResult:
    text = path.read_text(encoding=detect_encoding(path))
    # Integers stay text: the provider's digits are kept as sent, and a 5,000-digit number is just a
    # string here (int() would refuse it beyond Python's 4,300-digit conversion limit).
    loads = lambda s: json.loads(s, parse_int=str)  # noqa: E731
    try:
        if fmt == "jsonl":
            rows = [loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = loads(text)
            rows = data.get("records", data.get("data")) if isinstance(data, dict) else data
    except json.JSONDecodeError as exc:
        raise ProblemError(
            Problem(
                "file.json",
                f"JSON 格式错误（第{exc.lineno}行第{exc.colno}列）：{exc.msg}",
                f"Invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            )
        ) from exc
    except RecursionError as exc:
        raise ProblemError(
            Problem(
                "file.json_depth",
                "JSON 嵌套层数过深，无法读取：每一行数据应是一个只含文字和数字的对象",
                "The JSON is nested too deeply to read: each row must be one object of texts and numbers",
            )
        ) from exc
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ProblemError(
            Problem(
                "file.json_shape",
                "JSON 文件应为对象数组，或含 records 数组的对象，每个对象是一行数据",
                "A JSON file must be an array of objects, or an object with a 'records' array, "
                "one object per row",
            )
        )
    if not rows:
        raise ProblemError(_no_rows())
    keys: dict[str, None] = {}
    for row in rows:
        keys.update(dict.fromkeys(row))
        _check_width(len(keys), limits)
    headers = _header_names(list(keys), len(keys))
    columns = {h: [_json_text(r.get(k)) for r in rows] for k, h in zip(keys, headers, strict=True)}
    return ReadResult(
        frame=pl.DataFrame(columns, schema={h: pl.String for h in headers}),
        format=fmt,
        encoding="utf-8",
        headers=headers,
        header_row=0,  # JSON has no header row: the first record is row 1
    )


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list):
        text = ";".join(str(v) for v in value)
    else:
        text = str(value)
    # A lone surrogate ("\ud800" is valid JSON) cannot be stored; as NUL it is refused with the row.
    return text if text.isascii() or not _has_surrogate(text) else _SURROGATE.sub("\x00", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


# ------------------------------------------------------------------------------------------ problems


def _shown(text: str) -> str:
    """A sheet or file name as a message may show it: printable and short."""
    clean = _UNSTORABLE.sub("\ufffd", text)
    return clean if len(clean) <= 64 else clean[:63] + "…"


def _empty() -> Problem:
    return Problem(
        "file.empty",
        "文件是空的（没有表头，也没有数据），未入库；请确认导出是否成功后重新报送",
        "The file is empty (no header, no data) and nothing was loaded; check the export and send again",
    )


def _no_rows() -> Problem:
    return Problem(
        "file.no_rows",
        "文件只有表头，没有数据行，未入库；本期没有数据时无需报送",
        "The file has a header but no data rows, so nothing was loaded; when there is no data, "
        "there is nothing to send",
    )


def _unreadable(fmt: str) -> Problem:
    return Problem(
        "file.unreadable",
        f"文件无法按 {fmt} 格式读取（内容损坏，或不是该格式），未入库；请重新导出后报送",
        f"The file cannot be read as {fmt} (damaged, or not in that format); nothing was loaded. "
        "Export it again and send it",
    )


def _unsupported(what: str) -> Problem:
    return Problem(
        "file.format",
        f"不支持的文件格式“{_shown(what)}”：请上传 CSV、Excel（xlsx/xls）、JSON 或 JSON Lines 文件",
        f"Unsupported file format '{_shown(what)}': send CSV, Excel (xlsx/xls), JSON or JSON Lines",
    )
