"""Ingest of files providers really send, and of hostile ones: always a recorded batch, never a crash, and
no refusal that quotes a cell (issue 8, items 2a, 4, 7, 13)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from xinyong.problems import ProblemError
from xinyong.store.schema import metadata
from xinyong.store.tables import batches, records

from . import hostile
from .conftest import HEADERS, PERSON, Ingest, csv_bytes, penalty, person_penalty, reasons

CJK = re.compile(r"[\u4e00-\u9fff]")


def _everything_stored(engine: sa.Engine) -> str:
    """Every row of every table as text: what a leak would be found in."""
    out = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(sa.select(table)):
                out.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(out)


def _bilingual(problem: Any) -> None:
    assert CJK.search(problem.message_zh) and not CJK.search(problem.message_en)


@pytest.mark.parametrize("name", list(hostile.REFUSED))
def test_hostile_files_are_refused_batches(
    send: Ingest, engine: sa.Engine, tmp_path: Path, name: str
) -> None:
    content, code = hostile.REFUSED[name]
    summary = send(hostile.write(tmp_path, name, content))
    assert summary.status == "refused" and [p.code for p in summary.problems] == [code]
    _bilingual(summary.problems[0])
    with engine.connect() as conn:
        stored = conn.execute(sa.select(batches.c.status, batches.c.report)).one()
    report = stored.report if isinstance(stored.report, dict) else json.loads(stored.report)
    assert stored.status == "refused" and report["problems"][0]["code"] == code


@pytest.mark.parametrize("name", list(hostile.ROW_LEVEL))
def test_an_odd_row_is_rejected_and_the_rest_loaded(
    send: Ingest, engine: sa.Engine, tmp_path: Path, name: str
) -> None:
    summary = send(hostile.write(tmp_path, name, hostile.ROW_LEVEL[name]))
    assert (summary.status, summary.received, summary.inserted, summary.rejected) == ("done", 2, 1, 1)
    codes = next(iter(reasons(engine, summary.batch_id).values()))
    assert codes == (["row.invalid_character"] if name.startswith("nul") else ["row.decimal"])


def test_a_refusal_quotes_no_cell(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    """The parser's own message quoted the bad line, ID number and all, into the report and the database."""
    summary = send(hostile.write(tmp_path, "bad.csv", hostile.stray_quote()))
    assert summary.status == "refused" and summary.problems[0].code == "file.csv"
    assert "第 3 行" in summary.problems[0].message_zh and "Row 3" in summary.problems[0].message_en
    assert PERSON not in json.dumps(summary.as_dict(), ensure_ascii=False)
    stored = _everything_stored(engine)
    assert PERSON not in stored and PERSON[:14] not in stored and "张伟" not in stored


def test_a_file_without_headers_lists_none_of_its_cells(
    send: Ingest, engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "no-header.csv"
    body = csv_bytes([person_penalty(1), person_penalty(2)]).split("\r\n", 1)[1]  # data rows only
    path.write_text(body, encoding="utf-8")
    summary = send(path)
    assert summary.status == "refused" and summary.problems[0].code == "file.no_known_columns"
    assert summary.unknown_columns == [] and not summary.warnings
    stored = _everything_stored(engine)
    assert PERSON not in stored and "张伟" not in stored


def test_shown_headers_mask_id_numbers(send: Ingest, tmp_path: Path) -> None:
    summary = send([{**penalty(1), f"备注{PERSON}": "x"}])
    assert summary.status == "done"
    assert PERSON not in json.dumps(summary.as_dict(), ensure_ascii=False)
    assert any(c.startswith("备注4201") for c in summary.unknown_columns)


# --------------------------------------------------------------------------------- the header row


TITLE = "武汉市市场监督管理局2026年6月行政处罚信息"


def test_a_title_above_the_header_is_passed_over_in_csv(
    send: Ingest, engine: sa.Engine, tmp_path: Path
) -> None:
    path = tmp_path / "titled.csv"
    rows = [penalty(1), penalty(2, cf_jdrq="2026-13-40"), penalty(3)]
    path.write_text(
        f"{TITLE},,\r\n填报单位：武汉市市场监督管理局\r\n\r\n" + csv_bytes(rows), encoding="gb18030"
    )
    summary = send(path)
    assert (summary.status, summary.received, summary.inserted, summary.rejected) == ("done", 3, 2, 1)
    assert reasons(engine, summary.batch_id) == {6: ["row.date"]}  # the row number Excel shows for it


def _xlsx(path: Path, rows: list[list[str | None]], *, first_row: int = 0) -> Path:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                sheet.write_string(first_row + r, c, value)
    book.close()
    return path


def _sheet_rows(items: list[dict[str, str | None]]) -> list[list[str | None]]:
    return [list(HEADERS)] + [[row[h] for h in HEADERS] for row in items]


def test_a_title_above_the_header_is_passed_over_in_excel(
    send: Ingest, engine: sa.Engine, tmp_path: Path
) -> None:
    rows = _sheet_rows([penalty(1), penalty(2, cf_jdrq="2026-13-40")])
    rows[2:2] = [[None] * len(HEADERS)]  # an empty row between two data rows
    path = _xlsx(tmp_path / "titled.xlsx", [[TITLE], [None], *rows], first_row=1)
    summary = send(path)
    assert (summary.received, summary.inserted, summary.rejected) == (2, 1, 1)
    # title on row 2, header on row 4, data on rows 5 and 7: numbers as Excel shows them
    assert reasons(engine, summary.batch_id) == {7: ["row.date"]}


def test_a_header_further_down_is_named(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    notes = "".join(f"说明第{i}条\r\n" for i in range(1, 12))
    path = tmp_path / "notes.csv"
    path.write_text(notes + csv_bytes([penalty(1), penalty(2, cf_jdrq="2026-13-40")]), encoding="utf-8")
    assert send(path).problems[0].code == "file.no_known_columns"  # beyond the rows searched
    summary = send(path, header_row=12)
    assert (summary.status, summary.inserted, summary.rejected) == ("done", 1, 1)
    assert reasons(engine, summary.batch_id) == {14: ["row.date"]}
    blank = send(path, header_row=200)
    assert blank.status == "refused" and blank.problems[0].code == "file.header_row"


def test_a_named_header_row_that_is_empty_is_refused(send: Ingest, tmp_path: Path) -> None:
    path = tmp_path / "gap.csv"
    path.write_text(f"{TITLE}\r\n\r\n" + csv_bytes([penalty(1)]), encoding="utf-8")
    assert send(path, header_row=3).status == "done"
    refused = send(path, header_row=2)
    assert refused.status == "refused" and refused.problems[0].code == "file.header_row"
    assert "第 2 行" in refused.problems[0].message_zh


# ------------------------------------------------------------------------------------ limits


def test_a_csv_record_over_the_byte_limit_refuses_the_file(send: Ingest, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    path.write_text(
        csv_bytes([penalty(1), penalty(2, cf_sy="经查" * 2_200_000), penalty(3)]), encoding="utf-8"
    )
    summary = send(path)
    assert summary.status == "refused" and summary.problems[0].code == "file.record_too_long"
    assert "第 3 行" in summary.problems[0].message_zh and "4194304" in summary.problems[0].message_zh


def test_a_giant_cell_in_a_small_xlsx_is_refused_unread(send: Ingest, tmp_path: Path) -> None:
    """Issue 8: a 104 KB xlsx with a 100 MB cell loaded with a 3.7 GB peak."""
    path = _xlsx(tmp_path / "small.xlsx", _sheet_rows([penalty(1, cf_sy="PLACEHOLDER")]))
    forged = tmp_path / "giant.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/sharedStrings.xml":
                before, after = data.split(b"PLACEHOLDER")
                with target.open(info.filename, "w") as part:
                    part.write(before)
                    for _ in range(100):
                        part.write(b"A" * 1_000_000)
                    part.write(after)
            else:
                target.writestr(info.filename, data)
    assert forged.stat().st_size < 200_000
    summary = send(forged)
    assert summary.status == "refused" and summary.problems[0].code == "file.cell_too_long"
    assert "32767" in summary.problems[0].message_zh


def test_a_cell_at_excels_limit_is_read(send: Ingest, engine: sa.Engine, tmp_path: Path) -> None:
    path = _xlsx(tmp_path / "long.xlsx", _sheet_rows([penalty(1, cf_sy="查" * 32_767)]))
    summary = send(path)
    assert summary.status == "done" and "row.cell_too_long" not in str(reasons(engine, summary.batch_id))


# ------------------------------------------------------------------------------ legacy values


LEGACY = "没收违法所得、没收非法财物"


def test_the_legacy_confiscation_category_is_mapped(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_cflb=f"罚款；{LEGACY}", cf_nr_wfff="0.5")])
    assert (summary.inserted, summary.rejected) == (1, 0)
    with engine.connect() as conn:
        data, original = conn.execute(sa.select(records.c.data, records.c.original)).one()
    data = data if isinstance(data, dict) else json.loads(data)
    original = original if isinstance(original, dict) else json.loads(original)
    assert data["cf_cflb"] == "罚款;没收违法所得;没收非法财物"
    assert original["cf_cflb"] == f"罚款；{LEGACY}"  # the provider's own words are kept


def test_the_legacy_category_still_needs_the_confiscated_amount(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_cflb=LEGACY, cf_nr_fk=None), penalty(2, cf_cflb="没收违法所得及非法财物")])
    assert summary.rejected == 2
    assert reasons(engine, summary.batch_id) == {2: ["row.required_if"], 3: ["row.enum"]}


def test_long_header_is_cut_in_messages(send: Ingest) -> None:
    summary = send([{**penalty(1), "附注" * 500: "x"}])
    assert all(len(c) <= 40 for c in summary.unknown_columns)
    assert len(json.dumps(summary.as_dict(), ensure_ascii=False)) < 5_000


def test_a_file_name_no_database_stores_is_kept_storable(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1)], filename="处罚\x00信息" + "长" * 300 + ".csv")
    assert summary.status == "done"
    with engine.connect() as conn:
        stored = conn.execute(sa.select(batches.c.filename)).scalar_one()
    assert stored.startswith("处罚\ufffd信息") and len(stored) == 260


def test_a_correction_after_a_row_without_source(send: Ingest, engine: sa.Engine) -> None:
    """Found by the fuzz test: an open rejected row with no source USCC made the next load crash."""
    first = send([penalty(1, cf_sjlydm=None)])
    assert first.rejected == 1
    second = send([penalty(1)])
    assert (second.status, second.inserted) == ("done", 1)


def test_a_submitter_code_with_a_nul_is_unknown_not_a_crash(send: Ingest) -> None:
    with pytest.raises(ProblemError) as unknown:
        send([penalty(1)], submitter="11420100Q0100001XM\x00")
    assert unknown.value.problems[0].code == "batch.unknown_submitter"
