"""Headers to catalogue fields: tolerant of how providers write them, strict about what must not come in."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from xinyong.catalog.loader import load_catalog
from xinyong.collect.columns import map_columns
from xinyong.store.tables import batches, records, rejected_rows

from .conftest import HEADERS, H, Ingest, penalty

XZCF = load_catalog().item("XZCF")


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("行政相对人代码_1（统一社会信用代码）", "xdr_dm1"),  # full-width brackets
        ("行政相对人代码_1 ( 统一社会信用代码 )", "xdr_dm1"),  # spaces
        ("代码_1(统一社会信用代码)", "xdr_dm1"),  # the 代码_1(…) style
        ("统一社会信用代码", "xdr_dm1"),  # alias
        ("CF_XDR_SHXYM", "xdr_dm1"),  # national column code
        (" 行政处罚决定书文号 ", "cf_wsh"),
        ("处罚决定书文号", "cf_wsh"),  # alias
        ("*行政处罚决定书文号", "cf_wsh"),  # required marker
        ("罚款金额（万元）", "cf_nr_fk"),
        ("ＣＦ＿ＷＳＨ", "cf_wsh"),  # full-width letters
        ("xdr_mc", "xdr_mc"),  # field code
    ],
)
def test_header_forms(header: str, code: str) -> None:
    mapped = map_columns([header], XZCF)
    assert mapped.header_for == {code: header} and not mapped.unknown and not mapped.refused


def test_a_file_with_untidy_headers_loads(send: Ingest, engine: sa.Engine) -> None:
    untidy = {
        H["xdr_dm1"]: "代码_1（统一社会信用代码）",
        H["cf_wsh"]: " 处罚决定书文号 ",
        H["cf_nr_fk"]: "罚款金额（万元）",
        H["cf_sjlydm"]: "CF_SJLYDM",
    }
    headers = [untidy.get(h, h) for h in HEADERS]
    rows = [{untidy.get(h, h): v for h, v in penalty(n).items()} for n in (1, 2)]
    summary = send(rows, headers=headers)
    assert (summary.inserted, summary.rejected, summary.unknown_columns) == (2, 0, [])
    assert summary.columns[" 处罚决定书文号 "] == "cf_wsh"


def test_forbidden_column_refuses_the_whole_file(send: Ingest, engine: sa.Engine) -> None:
    rows = [{**penalty(n), "血型": "A"} for n in (1, 2)]
    summary = send(rows)
    assert summary.status == "refused" and summary.batch_id is not None
    assert [(p.code, p.field) for p in summary.problems] == [("file.forbidden_column", "血型")]
    assert "血型" in summary.problems[0].message_zh and "血型" in summary.problems[0].message_en
    with engine.connect() as conn:
        batch = conn.execute(sa.select(batches)).one()
        assert conn.execute(sa.select(sa.func.count()).select_from(records)).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(rejected_rows)).scalar_one() == 0
    assert batch.status == "refused" and batch.received == 0
    assert batch.report["problems"][0]["field"] == "血型"


def test_religion_column_refused_even_among_good_ones(send: Ingest) -> None:
    summary = send([{**penalty(1), "宗教信仰": "无"}])
    assert summary.status == "refused" and summary.problems[0].field == "宗教信仰"


def test_unknown_column_is_reported_and_not_stored(send: Ingest, engine: sa.Engine) -> None:
    good = {**penalty(1), "经办人电话": "13800000000"}
    bad = {**penalty(2, xdr_mc=None), "经办人电话": "13900000000"}
    summary = send([good, bad])
    assert summary.unknown_columns == ["经办人电话"]
    assert [w.code for w in summary.warnings] == ["file.unknown_columns"]
    assert "经办人电话" in summary.warnings[0].message_zh
    with engine.connect() as conn:
        stored = [
            json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v
            for v in conn.execute(sa.text("SELECT data FROM records")).scalars()
        ]
        stored += [
            json.dumps(r, ensure_ascii=False) for r in conn.execute(sa.select(rejected_rows.c.raw)).scalars()
        ]
    assert stored and not any("经办人电话" in s or "1380000" in s or "1390000" in s for s in stored)


def test_two_columns_for_one_field_refuse_the_file(send: Ingest) -> None:
    rows = [{**penalty(1), "处罚决定书文号": "武市监罚〔2026〕9号"}]
    summary = send(rows)
    assert summary.status == "refused" and [p.code for p in summary.problems] == ["file.duplicate_column"]


def test_a_file_of_another_item_is_refused(send: Ingest) -> None:
    summary = send([{"许可证书名称": "食品经营许可证", "某列": "x"}])
    assert summary.status == "refused" and summary.problems[0].code == "file.no_known_columns"
