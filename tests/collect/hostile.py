"""Files that once crashed the ingest (issue 8): each must end as a recorded batch, never a traceback.

Shared by the service, command-line and API tests, so that the three doors are held to the same list.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from .conftest import HEADERS, PERSON, csv_bytes, penalty, person_penalty


def _xlsx(rows: list[list[str]]) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return buffer.getvalue()


def _json(rows: list[dict[str, str | None]]) -> str:
    return json.dumps([{k: v for k, v in r.items() if v is not None} for r in rows], ensure_ascii=False)


def stray_quote() -> bytes:
    """A person's row whose ID number cell is quoted with text after the closing quote: polars' own
    message for it quoted the whole line, ID number included."""
    text = csv_bytes([penalty(1), person_penalty(2)])
    assert f",{PERSON}," in text
    return text.replace(f",{PERSON},", f',"{PERSON}"x,').encode()


# name -> (content, the refusal's problem code)
REFUSED: dict[str, tuple[bytes, str]] = {
    "empty.csv": (b"", "file.empty"),
    "blank-lines.csv": (b"\r\n\r\n\n", "file.empty"),
    "header-only.csv": (csv_bytes([], headers=HEADERS).encode(), "file.no_rows"),
    "header-only.xlsx": (_xlsx([HEADERS]), "file.no_rows"),
    "empty-array.json": (b"[]", "file.no_rows"),
    "text-named.xlsx": (b"\xe8\xa1\x8c\xe6\x94\xbf,this is text\n", "file.excel"),
    "web-page-named.xls": (b"<html><body><table><tr><td>1</td></tr></table></body></html>", "file.excel"),
    "broken-zip.xlsx": (b"PK\x03\x04" + bytes(range(256)) * 8, "file.excel"),
    "deep.json": (b"[" * 100_000 + b"]" * 100_000, "file.json_depth"),
    "binary.csv": (bytes(range(256)) * 16, "file.encoding"),
    "utf16.csv": (csv_bytes([penalty(1)]).encode("utf-16"), "file.encoding"),
    "stray-quote.csv": (stray_quote(), "file.csv"),
}

# name -> content: an ordinary batch whose odd row is rejected with a reason, the rest loaded
ROW_LEVEL: dict[str, bytes] = {
    "big-number.json": _json([penalty(1, cf_nr_fk="9" * 5000), penalty(2)])
    .replace('"' + "9" * 5000 + '"', "9" * 5000)
    .encode(),
    "big-number.csv": csv_bytes([penalty(1, cf_nr_fk="9" * 4301), penalty(2)]).encode(),
    "nul.csv": csv_bytes([penalty(1, xdr_mc="武汉\x00华信科技有限公司"), penalty(2)]).encode(),
    "nul.json": _json([penalty(1, cf_sy="经查\x00"), penalty(2)]).encode(),
}


def write(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path
