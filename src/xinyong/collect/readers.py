"""Read a provider's file into a table of strings, whatever its format and encoding.

Every cell comes out as text (or null): types are the validator's business, and the provider's original
value must survive to the feedback file unchanged. The encoding is detected, never guessed silently:
UTF-8 (with or without BOM) is tried strictly, then GB18030 (a superset of GBK and GB2312); a file that
is neither is refused and the batch records which encoding was used.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import os
import tempfile
import weakref
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from xinyong.problems import Problem, ProblemError

FORMATS = ("csv", "xlsx", "xls", "json", "jsonl")
_SUFFIX = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".json": "json"}
_SUFFIX |= {".jsonl": "jsonl", ".ndjson": "jsonl"}


class ReadResult:
    """A provider's file as text cells: `batches()` streams it (a CSV is never held whole); `frame` is all."""

    def __init__(
        self,
        *,
        format: str,
        encoding: str | None,
        headers: list[str],
        frame: pl.DataFrame | None = None,
        csv: Path | None = None,
        height: int | None = None,
        rename: dict[str, str] | None = None,
    ) -> None:
        self.format = format
        self.encoding = encoding
        self.headers = headers
        self._frame = frame
        self._csv = csv
        self._rename = rename or {}
        self.height = frame.height if frame is not None else int(height or 0)

    def batches(self, size: int) -> Iterator[pl.DataFrame]:
        if self._csv is None:
            frame = self.frame
            for start in range(0, frame.height, size):
                yield frame.slice(start, size)
            return
        try:
            for batch in pl.scan_csv(self._csv, infer_schema=False).collect_batches(chunk_size=size):
                yield batch.rename(self._rename) if self._rename else batch
        except pl.exceptions.ComputeError as exc:
            raise _malformed(exc) from exc

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


def read_file(path: Path, *, fmt: str | None = None, sheet: str | None = None) -> ReadResult:
    fmt = detect_format(path, fmt)
    if fmt == "csv":
        return _read_csv(path)
    if fmt in ("xlsx", "xls"):
        return _read_excel(path, fmt, sheet)
    return _read_json(path, fmt)


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-8 or gb18030: the first that decodes the whole file strictly."""
    with path.open("rb") as fh:
        head = fh.read(3)
    candidates = ["utf-8-sig"] if head == codecs.BOM_UTF8 else ["utf-8", "gb18030"]
    for encoding in candidates:
        if _decodes(path, encoding):
            return encoding
    raise ProblemError(
        Problem(
            "file.encoding",
            "无法识别文件编码：文件既不是 UTF-8 也不是 GB18030/GBK。"
            "请用 Excel 或 WPS 另存为“CSV UTF-8”后重新上传。",
            "Unknown encoding: the file is neither UTF-8 nor GB18030/GBK. "
            "Save it as 'CSV UTF-8' and send it again.",
        )
    )


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while block := fh.read(1 << 22):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_csv(path: Path) -> ReadResult:
    encoding = detect_encoding(path)
    source = path
    if encoding == "gb18030":
        # polars reads UTF-8 only: transcode in a stream, never the whole file in memory at once.
        fd, tmp = tempfile.mkstemp(suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8") as out, path.open(encoding="gb18030", newline="") as src:
            while block := src.read(1 << 22):
                out.write(block)
        source = Path(tmp)
    try:
        scan = pl.scan_csv(source, infer_schema=False)
        headers = list(scan.collect_schema().names())
        height = scan.select(pl.len()).collect().item()
    except pl.exceptions.ComputeError as exc:
        if source != path:
            source.unlink()
        raise _malformed(exc) from exc
    rename = {}
    if headers and headers[0].startswith("\ufeff"):
        rename = {headers[0]: headers[0].lstrip("\ufeff")}
        headers[0] = rename[headers[0]]
    result = ReadResult(
        format="csv", encoding=encoding, headers=headers, csv=source, height=height, rename=rename
    )
    if source != path:
        weakref.finalize(result, os.unlink, source)  # the transcoded copy lives as long as the result
    return result


def _malformed(exc: Exception) -> ProblemError:
    return ProblemError(
        Problem(
            "file.csv",
            f"CSV 文件格式有误，无法逐行读取：{exc}",
            f"The CSV file is malformed and cannot be read row by row: {exc}",
        )
    )


def _read_excel(path: Path, fmt: str, sheet: str | None) -> ReadResult:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(path))
    if sheet is not None and sheet not in book.sheet_names:
        raise ProblemError(
            Problem(
                "file.sheet",
                f"工作簿中没有名为“{sheet}”的工作表；现有工作表：{'、'.join(book.sheet_names)}",
                f"The workbook has no sheet named '{sheet}'; it has: {', '.join(book.sheet_names)}",
            )
        )
    rows = book.get_sheet_by_name(sheet or book.sheet_names[0]).to_python(skip_empty_area=True)
    if not rows:
        return ReadResult(frame=pl.DataFrame(), format=fmt, encoding=None, headers=[])
    headers = [_cell_text(h) or f"列{i + 1}" for i, h in enumerate(rows[0])]
    body = [[_cell_text(c) for c in row] + [None] * (len(headers) - len(row)) for row in rows[1:]]
    body = [row[: len(headers)] for row in body if any(c not in (None, "") for c in row)]
    columns = {h: [row[i] for row in body] for i, h in enumerate(_unique(headers))}
    frame = pl.DataFrame(columns, schema={h: pl.String for h in columns})
    return ReadResult(frame=frame, format=fmt, encoding=None, headers=headers)


def _cell_text(value: object) -> str | None:
    """Excel's typed cells back to the text a clerk typed: 44256.0 -> '44256', a date cell -> '2021-03-05'."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_json(path: Path, fmt: str) -> ReadResult:
    text = path.read_text(encoding=detect_encoding(path))
    try:
        if fmt == "jsonl":
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            data = json.loads(text)
            rows = data.get("records", data.get("data")) if isinstance(data, dict) else data
    except json.JSONDecodeError as exc:
        raise ProblemError(
            Problem(
                "file.json",
                f"JSON 格式错误（第{exc.lineno}行）：{exc.msg}",
                f"Invalid JSON at line {exc.lineno}: {exc.msg}",
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
    headers: list[str] = []
    for row in rows:
        headers.extend(k for k in row if k not in headers)
    columns = {h: [_json_text(r.get(h)) for r in rows] for h in headers}
    return ReadResult(
        frame=pl.DataFrame(columns, schema={h: pl.String for h in headers}),
        format=fmt,
        encoding="utf-8",
        headers=headers,
    )


def _json_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        seen[h] = seen.get(h, 0) + 1
        out.append(h if seen[h] == 1 else f"{h}#{seen[h]}")
    return out


def _unsupported(what: str) -> Problem:
    return Problem(
        "file.format",
        f"不支持的文件格式“{what}”：请上传 CSV、Excel（xlsx/xls）、JSON 或 JSON Lines 文件",
        f"Unsupported file format '{what}': send CSV, Excel (xlsx/xls), JSON or JSON Lines",
    )
