"""Normalisation and validation, on small hand-written files: the exact problem code on the exact row."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from xinyong.store.tables import records, rejected_rows

from .conftest import (
    COMPANY,
    COMPANY2,
    DEPT,
    PERSON,
    PLACEHOLDER,
    REGNO,
    SHOP,
    Ingest,
    fields_of,
    penalty,
    person_penalty,
)


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _records(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """source key -> {"data": …, "original": …} of every record."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(records.c.source_key, records.c.data, records.c.original)).all()
    return {r.source_key: {"data": _json(r.data), "original": _json(r.original) or {}} for r in rows}


# ------------------------------------------------------------------------------------------ normalisation


@pytest.mark.parametrize(
    "written",
    [
        "2026-06-01",
        "2026/6/1",
        "2026/06/01",
        "20260601",
        "2026年6月1日",
        "2026.6.1",
        "46174",
        "2026-06-01 00:00:00",
    ],
)
def test_date_styles(send: Ingest, engine: sa.Engine, written: str) -> None:
    summary = send([penalty(1, cf_jdrq=written)])
    assert (summary.inserted, summary.rejected) == (1, 0)
    record = _records(engine)["武市监罚〔2026〕1号"]
    assert record["data"]["cf_jdrq"] == "2026-06-01"
    assert record["original"].get("cf_jdrq") == (None if written == "2026-06-01" else written)


def test_amounts_codes_and_text_are_normalised_and_the_original_kept(send: Ingest, engine: sa.Engine) -> None:
    rows = [
        penalty(1, cf_nr_fk="1,234.5", xdr_dm1=_fullwidth(COMPANY), xdr_mc="  武汉华信科技有限公司 "),
        penalty(2, cf_nr_fk="１，２３４．５", cf_cfjgdm=DEPT.lower(), cf_jdrq="２０２６／６／１"),
        penalty(3, cf_nr_fk="3"),
    ]
    summary = send(rows)
    assert (summary.inserted, summary.rejected) == (3, 0)
    got = _records(engine)
    first, second, third = (got[f"武市监罚〔2026〕{n}号"] for n in (1, 2, 3))
    assert first["data"]["cf_nr_fk"] == "1234.5" and first["original"]["cf_nr_fk"] == "1,234.5"
    assert first["data"]["xdr_dm1"] == COMPANY and first["original"]["xdr_dm1"] == _fullwidth(COMPANY)
    assert first["data"]["xdr_mc"] == "武汉华信科技有限公司"
    assert first["original"]["xdr_mc"] == "  武汉华信科技有限公司 "
    assert second["data"]["cf_nr_fk"] == "1234.5" and second["original"]["cf_nr_fk"] == "１，２３４．５"
    assert second["data"]["cf_cfjgdm"] == DEPT and second["data"]["cf_jdrq"] == "2026-06-01"
    assert third["original"] == {}  # nothing changed, nothing kept twice


def test_free_text_keeps_chinese_punctuation(send: Ingest, engine: sa.Engine) -> None:
    send([penalty(1, cf_sy="经查，当事人（甲）发布虚假广告；情节较轻。")])
    assert (
        _records(engine)["武市监罚〔2026〕1号"]["data"]["cf_sy"]
        == "经查，当事人（甲）发布虚假广告；情节较轻。"
    )


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("警告;罚款", "警告;罚款"),
        ("警告；罚款", "警告;罚款"),
        (" 警告 ； 罚款 ", "警告;罚款"),
        ("罚款", "罚款"),
    ],
)
def test_multi_enum_separators(send: Ingest, engine: sa.Engine, written: str, stored: str) -> None:
    summary = send([penalty(1, cf_cflb=written)])
    assert summary.rejected == 0
    assert _records(engine)["武市监罚〔2026〕1号"]["data"]["cf_cflb"] == stored


def test_enum_alias(send: Ingest, engine: sa.Engine) -> None:
    send([person_penalty(1, xdr_zjlx="居民身份证")])
    assert _records(engine)["武市监罚〔2026〕1号"]["data"]["xdr_zjlx"] == "身份证"


# ------------------------------------------------------------------------------------------- validation

# One file, one row per defect (row 2 is the first data row of a CSV): every defect kind the catalogue
# knows, with the exact (code, field) pairs expected on that row. Good rows in between must load.
CASES: list[tuple[str, dict[str, Any], list[tuple[str, str | None]]]] = [
    ("good company", {}, []),
    ("missing name", {"xdr_mc": None}, [("row.required", "xdr_mc")]),
    ("blank name", {"xdr_mc": "   "}, [("row.required", "xdr_mc")]),
    ("unknown kind", {"xdr_lb": "公司"}, [("row.enum", "xdr_lb")]),
    ("bad USCC check", {"xdr_dm1": COMPANY[:-1] + "1"}, [("row.identifier", "xdr_dm1")]),
    ("organisation without USCC", {"xdr_dm1": None}, [("row.required_if", "xdr_dm1")]),
    ("bad authority USCC", {"cf_cfjgdm": DEPT[:-1] + "A"}, [("row.identifier", "cf_cfjgdm")]),
    ("bad source USCC", {"cf_sjlydm": DEPT[:-1] + "A"}, [("row.identifier", "cf_sjlydm")]),
    ("bad registration number", {"xdr_dm2": REGNO[:-1] + "9"}, [("row.identifier", "xdr_dm2")]),
    ("bad organisation code", {"xdr_dm3": "MA4K0001-9"}, [("row.identifier", "xdr_dm3")]),
    ("document number too long", {"cf_wsh": "武" * 129}, [("row.max_length", "cf_wsh")]),
    ("unknown category", {"cf_cflb": "罚钱"}, [("row.enum", "cf_cflb")]),
    ("one unknown category of two", {"cf_cflb": "警告；罚钱"}, [("row.enum", "cf_cflb")]),
    ("fine without amount", {"cf_nr_fk": None}, [("row.required_if", "cf_nr_fk")]),
    ("amount in words", {"cf_nr_fk": "约三万元"}, [("row.decimal", "cf_nr_fk")]),
    ("too many decimals", {"cf_nr_fk": "1.1234567"}, [("row.decimal", "cf_nr_fk")]),
    (
        "confiscation without amount",
        {"cf_cflb": "没收违法所得", "cf_nr_fk": None},
        [("row.required_if", "cf_nr_wfff")],
    ),
    (
        "revocation without licence",
        {"cf_cflb": "吊销许可证件", "cf_nr_fk": None},
        [("row.required_if", "cf_nr_zkdx")],
    ),
    ("impossible date", {"cf_jdrq": "2021-13-45"}, [("row.date", "cf_jdrq")]),
    ("date in words", {"cf_jdrq": "去年三月"}, [("row.date", "cf_jdrq")]),
    ("decided tomorrow", {"cf_jdrq": "2026-06-16", "cf_yxq": "2029-06-16"}, [("row.future_date", "cf_jdrq")]),
    ("decided today", {"cf_jdrq": "2026-06-15"}, []),
    ("valid before decision", {"cf_yxq": "2026-06-09"}, [("row.valid_before_decision", "cf_yxq")]),
    ("long-term validity", {"cf_yxq": "2099/12/31"}, []),
    (
        "two defects",
        {"xdr_mc": None, "cf_jdrq": "20261345"},
        [("row.required", "xdr_mc"), ("row.date", "cf_jdrq")],
    ),
    ("person without ID number", {"person": True, "xdr_zjhm": None}, [("row.required_if", "xdr_zjhm")]),
    ("person without ID type", {"person": True, "xdr_zjlx": None}, [("row.required_if", "xdr_zjlx")]),
    (
        "person with bad ID check",
        {"person": True, "xdr_zjhm": PERSON[:-1] + "2"},
        [("row.identifier", "xdr_zjhm")],
    ),
    ("person with passport", {"person": True, "xdr_zjlx": "护照", "xdr_zjhm": "E12345678"}, []),
    ("good person", {"person": True}, []),
    (
        "placeholder without registration number",
        {"xdr_lb": "个体工商户", "xdr_dm1": PLACEHOLDER, "xdr_dm2": None},
        [("row.required_if", "xdr_dm2")],
    ),
    (
        "full-width placeholder with registration number",
        {
            "xdr_lb": "个体工商户",
            "xdr_dm1": _fullwidth(PLACEHOLDER),
            "xdr_dm2": REGNO,
            "xdr_mc": "江岸区张记餐馆",
        },
        [],
    ),
    (
        "individual business with USCC",
        {"xdr_lb": "个体工商户", "xdr_dm1": SHOP, "xdr_mc": "江岸区李记五金店"},
        [],
    ),
    ("duplicate of row 2", {"n": 1}, [("row.duplicate_in_file", None)]),
    ("another company", {"xdr_dm1": COMPANY2, "xdr_mc": "武汉长江建筑工程有限公司"}, []),
]


def _case_rows() -> list[dict[str, str | None]]:
    rows = []
    for i, (_, changes, _) in enumerate(CASES, start=1):
        changes = dict(changes)
        n = changes.pop("n", i)
        make = person_penalty if changes.pop("person", False) else penalty
        rows.append(make(n, **changes))
    return rows


def test_every_defect_on_its_row(send: Ingest, engine: sa.Engine) -> None:
    summary = send(_case_rows())
    expected = {i + 2: problems for i, (_, _, problems) in enumerate(CASES) if problems}
    got = fields_of(engine, summary.batch_id)
    wrong = {
        f"row {row} ({CASES[row - 2][0]})": (got.get(row), expected.get(row))
        for row in sorted(set(got) | set(expected))
        if got.get(row) != expected.get(row)
    }
    assert not wrong, wrong
    assert summary.rejected == len(expected)
    assert summary.inserted == len(CASES) - len(expected)


def test_every_reason_says_what_and_how_in_both_languages(send: Ingest, engine: sa.Engine) -> None:
    summary = send(_case_rows())
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(rejected_rows.c.row_number, rejected_rows.c.reasons).where(
                rejected_rows.c.batch_id == summary.batch_id
            )
        ).all()
    for row in stored:
        for reason in row.reasons:
            assert reason["message_zh"] and reason["message_en"], reason
            assert PERSON[:-1] not in reason["message_zh"] + reason["message_en"]  # ID numbers masked
    by_row = {r.row_number: r.reasons for r in stored}
    fine = by_row[2 + next(i for i, c in enumerate(CASES) if c[0] == "fine without amount")][0]
    assert "罚款金额" in fine["message_zh"] and "罚款" in fine["message_zh"]
    date = by_row[2 + next(i for i, c in enumerate(CASES) if c[0] == "impossible date")][0]
    assert "2021-13-45" in date["message_zh"] and "2021/3/5" in date["message_zh"]
    dup = by_row[2 + next(i for i, c in enumerate(CASES) if c[0] == "duplicate of row 2")][0]
    assert "第 2 行" in dup["message_zh"] and "row 2" in dup["message_en"]


def test_rejected_row_keeps_the_provider_cells(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_nr_fk="约三万元"), person_penalty(2, xdr_zjhm=PERSON[:-1] + "2")])
    with engine.connect() as conn:
        raws = dict(
            conn.execute(
                sa.select(rejected_rows.c.row_number, rejected_rows.c.raw).where(
                    rejected_rows.c.batch_id == summary.batch_id
                )
            ).all()
        )
    assert raws[2]["罚款金额(万元)"] == "约三万元"
    assert raws[3]["证件号码"].startswith("enc:")  # personal ID kept encrypted until the feedback file
