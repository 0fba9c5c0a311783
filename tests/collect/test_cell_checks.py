"""The reader's own row problems: a NUL, a cell over Excel's limit, an ID number Excel turned into a number.

Each rejects its row with a code of its own (the rest of the file loads), on SQLite and on PostgreSQL —
which refuses NUL in text outright and used to crash the whole ingest.
"""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from xinyong.store.tables import rejected_rows

from .conftest import (
    HEADERS,
    PERSON,
    PLACEHOLDER,
    REGNO,
    H,
    Ingest,
    fields_of,
    penalty,
    person_penalty,
    reasons,
    revealed,
)


def _rejected(engine: sa.Engine, batch_id: int | None) -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(rejected_rows.c.raw, rejected_rows.c.reasons).where(
                rejected_rows.c.batch_id == batch_id
            )
        ).all()
    load = lambda v: v if isinstance(v, dict | list) else json.loads(v)  # noqa: E731
    return [(load(raw), load(why)) for raw, why in found]


def _workbook(path: Path, rows: list[dict[str, str | None]], *, numbers: set[str] = frozenset()) -> Path:
    """An xlsx of penalty rows; headers in `numbers` are written as number cells, as Excel stores a long
    string of digits typed into a General-format cell."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for col, header in enumerate(HEADERS):
        sheet.write_string(0, col, header)
        for r, row in enumerate(rows, start=1):
            value = row[header]
            if value is None:
                continue
            if header in numbers:
                sheet.write_number(r, col, float(value))
            else:
                sheet.write_string(r, col, value)
    book.close()
    return path


def test_nul_rejects_its_row_on_both_databases(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, xdr_mc="武汉华信\x00科技有限公司"), penalty(2)])
    assert (summary.status, summary.inserted, summary.rejected) == ("done", 1, 1)
    assert fields_of(engine, summary.batch_id) == {2: [("row.invalid_character", "xdr_mc")]}
    ((raw, why),) = _rejected(engine, summary.batch_id)
    assert revealed(raw)[H["xdr_mc"]] == "武汉华信\ufffd科技有限公司"  # kept for the feedback, storable
    assert "NUL" in why[0]["message_zh"] and "NUL" in why[0]["message_en"]


def test_nul_and_broken_characters_in_excel_and_json(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    book = _workbook(tmp_path / "nul.xlsx", [penalty(1, cf_sy="经查\x00"), penalty(2)])
    summary = send(book)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert fields_of(engine, summary.batch_id) == {2: [("row.invalid_character", "cf_sy")]}
    path = tmp_path / "broken.json"
    rows = [{k: v for k, v in penalty(n).items() if v} for n in (3, 4)]
    text = json.dumps(rows, ensure_ascii=True).replace(
        "\\u7ecf\\u67e5", "\\ud800\\u67e5", 1
    )  # 经 -> lone half
    path.write_text(text, encoding="utf-8")
    summary = send(path)
    assert (summary.inserted, summary.rejected) == (1, 1)
    assert fields_of(engine, summary.batch_id) == {1: [("row.invalid_character", "cf_sy")]}


def test_a_cell_over_the_limit_rejects_its_row(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_sy="查" * 40_000), penalty(2, cf_sy="查" * 32_767)])
    assert summary.status == "done"
    assert reasons(engine, summary.batch_id).get(2) == ["row.cell_too_long"]
    assert "row.cell_too_long" not in str(reasons(engine, summary.batch_id).get(3))  # at the limit: read
    raw, why = next(r for r in _rejected(engine, summary.batch_id) if r[1][0]["code"] == "row.cell_too_long")
    assert "32767" in why[0]["message_zh"] and "32767" in why[0]["message_en"]
    assert len(raw[H["cf_sy"]]) == 32_768  # kept cut at the limit (and an ellipsis), not whole


def test_an_id_number_excel_stored_as_a_number(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    rows = [person_penalty(1), person_penalty(2, xdr_zjhm="420106198001011253")]
    summary = send(_workbook(tmp_path / "numbers.xlsx", rows, numbers={H["xdr_zjhm"]}))
    assert (summary.inserted, summary.rejected) == (0, 2)
    # Its own message, and not the check-digit complaint that Excel's zeros would otherwise cause.
    assert fields_of(engine, summary.batch_id) == {
        2: [("row.number_lost_digits", "xdr_zjhm")],
        3: [("row.number_lost_digits", "xdr_zjhm")],
    }
    _, why = _rejected(engine, summary.batch_id)[0]
    assert "文本" in why[0]["message_zh"] and "15" in why[0]["message_zh"] and "Text" in why[0]["message_en"]
    assert PERSON not in json.dumps(why, ensure_ascii=False)


def test_the_same_id_number_as_text_loads(send: Ingest, tmp_path: Path) -> None:
    summary = send(_workbook(tmp_path / "text.xlsx", [person_penalty(1)]))
    assert (summary.inserted, summary.rejected) == (1, 0)


def test_a_registration_number_typed_as_a_number_loads(send: Ingest, tmp_path: Path) -> None:
    shop = penalty(1, xdr_lb="个体工商户", xdr_mc="江岸区张记餐馆", xdr_dm1=PLACEHOLDER, xdr_dm2=REGNO)
    summary = send(_workbook(tmp_path / "regno.xlsx", [shop], numbers={H["xdr_dm2"]}))
    assert (summary.inserted, summary.rejected) == (1, 0)  # 15 digits: Excel keeps them all
