"""Field values that used to pass although wrong (issue 8 items 2c, 4, 10, 12), each beside the valid case.

Every test sends a real file through `ingest` into a real database (SQLite and PostgreSQL) and looks at
what a user would notice: the problem code on the row, the words of the message, what is stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa

from xinyong.catalog import load_catalog
from xinyong.codes.idcard import check_digit_for
from xinyong.codes.regno import regno_check_digit
from xinyong.collect.feedback import build_feedback
from xinyong.runtime import Runtime
from xinyong.store.schema import metadata
from xinyong.store.tables import records, rejected_rows, row_warnings

from .conftest import COMPANY, COMPANY2, PERSON, H, Ingest, fields_of, penalty, person_penalty, revealed

XZCF = load_catalog().item("XZCF")
# A second natural person's ID number, valid (GB 11643), to be typed where it does not belong.
OTHER_ID = "42010219850317123" + check_digit_for("42010219850317123")
MASKED_OTHER = OTHER_ID[:4] + "*" * 10 + OTHER_ID[-4:]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _record(engine: sa.Engine, key: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(records.c.data, records.c.original).where(records.c.source_key == key)
        ).one()
    return {"data": _json(row.data), "original": _json(row.original) or {}}


def _reasons(engine: sa.Engine, batch_id: int | None) -> dict[int, list[dict[str, str]]]:
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(rejected_rows.c.row_number, rejected_rows.c.reasons).where(
                rejected_rows.c.batch_id == batch_id
            )
        ).all()
    return {r.row_number: r.reasons for r in found}


def _everything_stored(engine: sa.Engine) -> str:
    """Every row of every table as text: what a database dump (or a backup, or the WAL) would show."""
    out = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            out += [repr(tuple(row)) for row in conn.execute(sa.select(table))]
    text = "\n".join(out)
    return text + "\n" + text.encode("ascii", "backslashreplace").decode()  # JSON may escape nothing, or all


KEY = "武市监罚〔2026〕1号"


def _row(**fields: str | None) -> dict[str, str | None]:
    """penalty(1) with fields set by code, columns the template lacks (法定代表人, 代码_4…) added."""
    row = penalty(1, **{c: v for c, v in fields.items() if c in H})
    row.update({XZCF.field(c).name_zh: v for c, v in fields.items() if c not in H})
    return row


# ------------------------------------------------------------------ item 10: values accepted although wrong


@pytest.mark.parametrize("fine", ["-3", "-5", "-0.000001", " -3 "])
def test_a_negative_fine_is_refused(send: Ingest, engine: sa.Engine, fine: str) -> None:
    summary = send([penalty(1, cf_nr_fk=fine)])
    assert summary.rejected == 1
    assert fields_of(engine, summary.batch_id) == {2: [("row.min_value", "cf_nr_fk")]}
    message = _reasons(engine, summary.batch_id)[2][0]["message_zh"]
    assert "罚款金额(万元)" in message and "不能小于 0" in message


@pytest.mark.parametrize("fine", ["0", "3", "0.000001", "+3", "1,234.5"])
def test_a_fine_of_zero_or_more_loads(send: Ingest, fine: str) -> None:
    assert send([penalty(1, cf_nr_fk=fine)]).inserted == 1


@pytest.mark.parametrize("written", ["0001-01-01", "1900-01-01", "1949-09-30", "0202/3/5"])
def test_a_decision_date_before_the_policy_floor_is_refused(
    send: Ingest, engine: sa.Engine, written: str
) -> None:
    summary = send([penalty(1, cf_jdrq=written)])
    assert fields_of(engine, summary.batch_id) == {2: [("row.date_too_early", "cf_jdrq")]}
    message = _reasons(engine, summary.batch_id)[2][0]["message_zh"]
    assert "处罚决定日期" in message and "1949-10-01" in message


def test_the_policy_floor_itself_is_a_valid_date(send: Ingest) -> None:
    assert send([penalty(1, cf_jdrq="1949-10-01")]).inserted == 1


@pytest.mark.parametrize(
    "written", ["2026-06-10 25:61", "2026-06-10 24:00", "2026/6/10 12:60", "2026-06-10 下午"]
)
def test_an_impossible_time_of_day_is_refused(send: Ingest, engine: sa.Engine, written: str) -> None:
    summary = send([penalty(1, cf_jdrq=written)])
    assert fields_of(engine, summary.batch_id) == {2: [("row.time", "cf_jdrq")]}
    message = _reasons(engine, summary.batch_id)[2][0]["message_zh"]
    assert written in message and "0–23" in message


@pytest.mark.parametrize(
    "written",
    [
        "2026-06-10 23:59:59",
        "2026-06-10 0:00",
        "2026-06-10T08:30:00.000",
        "2026-06-10T08:30:00+08:00",
        "2026年6月10日 14时30分",
        "2026/6/10 00:00:00",
    ],
)
def test_a_real_time_of_day_after_the_date_is_accepted(send: Ingest, engine: sa.Engine, written: str) -> None:
    assert send([penalty(1, cf_jdrq=written)]).inserted == 1
    assert _record(engine, KEY)["data"]["cf_jdrq"] == "2026-06-10"


@pytest.mark.parametrize("bidi", ["\u202e", "\u202d", "\u2066", "\u200f", "\u061c"])
def test_direction_controls_in_a_name_are_refused(send: Ingest, engine: sa.Engine, bidi: str) -> None:
    summary = send([penalty(1, xdr_mc=f"武汉华信{bidi}司公限有技科")])
    assert fields_of(engine, summary.batch_id) == {2: [("row.bidi_char", "xdr_mc")]}
    reason = _reasons(engine, summary.batch_id)[2][0]
    assert "行政相对人名称" in reason["message_zh"] and "U+202E" in reason["message_zh"]
    assert bidi not in reason["message_zh"] + reason["message_en"]  # named, never quoted


@pytest.mark.parametrize("invisible", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"])
def test_zero_width_characters_are_stripped_and_the_original_kept(
    send: Ingest, engine: sa.Engine, invisible: str
) -> None:
    sent = f"武汉华信{invisible}科技有限公司"
    assert send([penalty(1, xdr_mc=sent, cf_wsh=f"武市监罚〔2026〕{invisible}1号")]).inserted == 1
    record = _record(engine, KEY)
    assert record["data"]["xdr_mc"] == "武汉华信科技有限公司"
    assert record["data"]["cf_wsh"] == KEY
    assert record["original"]["xdr_mc"] == sent


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cf_sy", "经查\x00当事人发布虚假广告"),
        ("cf_sy", "经查\x08当事人"),
        ("cf_sy", "经查\x1b[31m当事人"),
        ("xdr_mc", "武汉华信\x00科技有限公司"),
        ("xdr_mc", "武汉华信\n科技有限公司"),
        ("xdr_mc", "武汉华信\t科技有限公司"),
        ("cf_wsh", "武市监罚〔2026〕\x001号"),
        ("cf_nr_fk", "3\x00"),
    ],
)
def test_control_characters_are_a_row_problem(
    send: Ingest, engine: sa.Engine, field: str, value: str
) -> None:
    summary = send([penalty(1, **{field: value}), penalty(2)])
    assert (summary.inserted, summary.rejected) == (1, 1)
    # A NUL is the reader's finding (collect/cell_checks.py), any other control character the field check's.
    nul = "\x00" in value
    code = "row.invalid_character" if nul else "row.control_char"
    assert fields_of(engine, summary.batch_id) == {2: [(code, field)]}
    reason = _reasons(engine, summary.batch_id)[2][0]
    assert XZCF.field(field).name_zh in reason["message_zh"] and "NUL" in reason["message_zh"]
    with engine.connect() as conn:
        stored = conn.execute(sa.select(rejected_rows.c.raw, rejected_rows.c.source_key)).one()
    # The row is kept for the feedback file; a NUL (which neither database can hold) is replaced.
    assert revealed(stored.raw)[H[field]] == value.replace("\x00", "\ufffd")
    if field == "cf_wsh":  # the key is kept with the replacement character, as the raw cells are
        assert stored.source_key == value.replace("\x00", "\ufffd")


def test_tabs_and_line_breaks_in_narrative_fields_are_kept(send: Ingest, engine: sa.Engine) -> None:
    facts = "经查：\n一、当事人发布虚假广告；\r\n二、\t情节较轻。"
    assert send([penalty(1, cf_sy=facts)]).inserted == 1
    assert _record(engine, KEY)["data"]["cf_sy"] == facts


# -------------------------------------------------------------------------- item 4: every field has a limit


def _text_fields() -> list[str]:
    codes = [f.code for f in XZCF.fields if f.type.value in ("string", "text", "code")]
    return [c for c in codes if c in H]


@pytest.mark.parametrize("code", _text_fields())
def test_every_text_field_refuses_a_value_over_its_limit(send: Ingest, engine: sa.Engine, code: str) -> None:
    spec = XZCF.field(code)
    assert spec.max_length, f"{code} declares no max_length"
    make = person_penalty if code == "xdr_zjhm" else penalty
    summary = send([make(1, **{code: "武" * (spec.max_length + 1)})])
    assert fields_of(engine, summary.batch_id) == {2: [("row.max_length", code)]}
    message = _reasons(engine, summary.batch_id)[2][0]["message_zh"]
    assert spec.name_zh in message and f"上限 {spec.max_length} 个字符" in message
    assert code not in message  # the clerk reads the field's name, never its code


@pytest.mark.parametrize(
    "code", ["xdr_mc", "cf_wsh", "cf_wfxw", "cf_sy", "cf_yj", "cf_nr", "cf_cfjg", "cf_sjly"]
)
def test_a_value_of_exactly_the_limit_loads(send: Ingest, engine: sa.Engine, code: str) -> None:
    spec = XZCF.field(code)
    assert spec.max_length
    assert send([penalty(1, **{code: "武" * spec.max_length})]).inserted == 1


def test_a_catalogue_field_without_a_limit_gets_the_policy_default(
    send: Ingest, engine: sa.Engine, tmp_path: Any
) -> None:
    from xinyong.catalog import load_catalog as load
    from xinyong.policy.loader import load_policy

    data = load().file.model_dump(by_alias=True, exclude_none=True)
    xzcf = next(i for i in data["items"] if i["code"] == "XZCF")
    del next(f for f in xzcf["fields"] if f["code"] == "cf_sy")["max_length"]
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps(data, ensure_ascii=False, default=str), "utf-8")
    catalog = load(path)
    assert catalog.item("XZCF").field("cf_sy").max_length is None
    limit = load_policy().collection.default_max_length.text
    summary = send([penalty(1, cf_sy="武" * (limit + 1)), penalty(2, cf_sy="武" * limit)], catalog=catalog)
    assert fields_of(engine, summary.batch_id) == {2: [("row.max_length", "cf_sy")]}
    assert summary.inserted == 1


# ------------------------------------------------------------ item 2(c): ID numbers where they do not belong


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("cf_sy", f"经查，当事人（身份证号{OTHER_ID}）发布虚假广告。"),
        ("cf_sy", f"经查，当事人（身份证号{OTHER_ID.lower()}）发布虚假广告。"),
        ("cf_nr", f"对经营者 {OTHER_ID[:6]} {OTHER_ID[6:14]} {OTHER_ID[14:]} 罚款三万元"),
        ("cf_nr", f"对经营者 {OTHER_ID[:6]}-{OTHER_ID[6:14]}-{OTHER_ID[14:]} 罚款三万元"),
        ("fr", f"张伟{OTHER_ID}"),
        ("cf_wfxw", "".join(chr(ord(c) + 0xFEE0) for c in OTHER_ID) + "发布虚假广告"),
        ("cf_cfjg", f"武汉市市场监督管理局（经办人{OTHER_ID}）"),
    ],
)
def test_an_id_number_in_free_text_is_masked_and_never_stored_in_clear(
    send: Ingest, engine: sa.Engine, runtime: Runtime, field: str, written: str
) -> None:
    summary = send([_row(**{field: written})])
    assert (summary.inserted, summary.rejected) == (1, 0)
    stored = _record(engine, KEY)
    assert MASKED_OTHER in stored["data"][field]
    assert OTHER_ID not in _everything_stored(engine) and OTHER_ID[6:14] + OTHER_ID[
        14:
    ] not in _everything_stored(engine)
    # The clerk is told, in the batch and in the feedback file.
    assert [(w.code, w.field) for w in summary.warnings] == [("row.id_number_masked", field)]
    assert "第 2 行" in summary.warnings[0].message_zh
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, summary.batch_id or 0, runtime)
    assert [r[0] for r in table.rows] == ["2"]
    assert table.rows[0][-1].startswith("【已入库，请核实】") and "公民身份号码" in table.rows[0][-1]


@pytest.mark.parametrize(
    ("field", "written"),
    [
        ("xdr_mc", f"张伟{OTHER_ID}"),  # the subject's name: the number would become its registered name
        ("cf_wsh", f"武市监罚〔2026〕{OTHER_ID}号"),  # the record's key
        ("xdr_dm2", OTHER_ID[:6] + OTHER_ID[8:17]),  # an old 15-digit ID number where the 注册号 goes
        ("xdr_dm4", OTHER_ID + "01"),  # an old 个体 税务登记号: the owner's ID number plus two digits
        ("xdr_dm6", OTHER_ID),
        ("cf_nr_fk", OTHER_ID),
    ],
)
def test_an_id_number_in_a_code_or_name_column_rejects_the_row_and_is_kept_encrypted(
    send: Ingest, engine: sa.Engine, runtime: Runtime, field: str, written: str
) -> None:
    row = _row(**{field: written})
    summary = send([row])
    assert summary.rejected == 1
    assert fields_of(engine, summary.batch_id) == {2: [("row.id_number_in_field", field)]}
    reason = _reasons(engine, summary.batch_id)[2][0]
    assert XZCF.field(field).name_zh in reason["message_zh"] and "身份证号码" in reason["message_zh"]
    dump = _everything_stored(engine)
    number = OTHER_ID if field != "xdr_dm2" else written
    assert number not in dump
    with engine.connect() as conn:
        raw = conn.execute(sa.select(rejected_rows.c.raw)).scalar_one()
    header = next(h for h in raw if XZCF.match_header(h) is XZCF.field(field))
    assert raw[header].startswith("enc:")
    # The provider who sent it sees it again, to correct it.
    with runtime.engine.connect() as conn:
        table = build_feedback(conn, summary.batch_id or 0, runtime)
    assert written in table.rows[0]


def test_numbers_that_only_look_like_id_numbers_are_left_alone(send: Ingest, engine: sa.Engine) -> None:
    # A 注册号 whose digits 7-12 read as a date (and so as an old 15-digit ID number) is a 注册号.
    regno = "420106800101" + "12"
    regno += regno_check_digit(regno)
    facts = (
        f"经查，当事人（注册号{regno}，统一社会信用代码{COMPANY2}）于20260301至20260310期间"
        "通过账号 6222021234567890123 收款，订单号 1234567890123456。"
    )
    summary = send([penalty(1, xdr_dm2=regno, cf_sy=facts)])
    assert (summary.inserted, summary.warnings) == (1, [])
    stored = _record(engine, KEY)["data"]
    assert stored["xdr_dm2"] == regno and stored["cf_sy"] == facts


def test_the_person_id_number_fields_keep_their_own_rule(send: Ingest, engine: sa.Engine) -> None:
    summary = send([person_penalty(1)])
    assert (summary.inserted, summary.warnings) == (1, [])
    assert PERSON not in _everything_stored(engine)


# ---------------------------------------------------------------- item 12: implausible values are reported


def test_a_fine_of_thirty_thousand_wan_loads_with_a_warning(
    send: Ingest, engine: sa.Engine, runtime: Runtime
) -> None:
    summary = send([penalty(1, cf_nr_fk="30000"), penalty(2, cf_nr_fk="9999.999999"), penalty(3)])
    assert (summary.inserted, summary.rejected) == (3, 0)
    assert [(w.code, w.field) for w in summary.warnings] == [("row.amount_implausible", "cf_nr_fk")]
    warning = summary.warnings[0]
    assert "第 2 行（共 1 行）" in warning.message_zh and "10000 万元" in warning.message_zh
    assert _record(engine, KEY)["data"]["cf_nr_fk"] == "30000"  # kept as sent
    with engine.connect() as conn:
        kept = conn.execute(sa.select(row_warnings.c.row_number, row_warnings.c.reasons)).all()
    assert [(r.row_number, [p["code"] for p in r.reasons]) for r in kept] == [(2, ["row.amount_implausible"])]
    assert "300,000,000" in kept[0].reasons[0]["message_zh"]
    with runtime.engine.connect() as conn:
        view_rows = build_feedback(conn, summary.batch_id or 0, runtime).rows
    assert [r[0] for r in view_rows] == ["2"] and "核实单位是否为万元" in view_rows[0][-1]


def test_batch_view_counts_the_rows_to_check(send: Ingest, runtime: Runtime) -> None:
    from xinyong.collect.queries import batch_view

    summary = send(
        [penalty(1, cf_nr_fk="30000"), penalty(2, cf_nr_wfff="20000", cf_cflb="罚款;没收违法所得")]
    )
    with runtime.engine.connect() as conn:
        view = batch_view(conn, summary.batch_id or 0)
    assert view is not None and view["warned_rows"] == 2
    assert {w["field"] for w in view["warnings"]} == {"cf_nr_fk", "cf_nr_wfff"}


def test_a_name_unlike_the_registered_one_loads_with_a_warning(send: Ingest, engine: sa.Engine) -> None:
    first = send([penalty(1)])
    assert first.warnings == []
    again = send(
        [
            penalty(2, xdr_mc="武汉华信科技有限公司"),  # the registered name
            penalty(3, xdr_mc="武汉 华信科技有限公司"),  # the same name with a stray space
            penalty(4, xdr_mc="武汉长江建筑工程有限公司"),  # another company's name on this USCC
        ]
    )
    assert again.inserted == 3
    assert [(w.code, w.field) for w in again.warnings] == [("row.name_mismatch", "xdr_mc")]
    assert "第 4 行（共 1 行）" in again.warnings[0].message_zh
    with engine.connect() as conn:
        kept = conn.execute(
            sa.select(row_warnings.c.row_number, row_warnings.c.reasons).where(
                row_warnings.c.batch_id == again.batch_id
            )
        ).all()
    assert [r.row_number for r in kept] == [4]
    message = kept[0].reasons[0]["message_zh"]
    assert "武汉长江建筑工程有限公司" in message and "武汉华信科技有限公司" in message and COMPANY in message


def test_full_width_brackets_do_not_make_another_name(send: Ingest) -> None:
    send([penalty(1, xdr_mc="华信科技(武汉)有限公司")])
    assert send([penalty(2, xdr_mc="华信科技（武汉）有限公司")]).warnings == []


# ------------------------------------------------------------ item 16: field names, never codes, for clerks


def test_the_conditional_requirement_names_fields_not_codes(send: Ingest, engine: sa.Engine) -> None:
    summary = send([penalty(1, cf_nr_fk=None), person_penalty(2, xdr_zjhm=None)])
    reasons = _reasons(engine, summary.batch_id)
    fine = reasons[2][0]
    assert fine["message_zh"].startswith("“罚款金额(万元)”在“处罚类别”包含“罚款”时必填")
    assert "'Penalty categories' includes '罚款'" in fine["message_en"]
    person = reasons[3][0]
    assert "“行政相对人类别”为“自然人”时必填" in person["message_zh"]
    for reason in (*reasons[2], *reasons[3]):
        assert "cf_" not in reason["message_zh"] + reason["message_en"]
        assert "xdr_" not in reason["message_zh"] + reason["message_en"]


def test_a_name_unlike_the_registered_one_is_caught_in_every_chunk(send: Ingest) -> None:
    """The registered names are read once a batch (`_SubjectNames`): later chunks still compare with them."""
    send([penalty(1)])
    again = send(
        [
            penalty(2, xdr_mc="武汉华信科技有限公司"),
            penalty(3, xdr_mc="武汉长江建筑工程有限公司"),
            penalty(4, xdr_mc="武汉华信科技有限公司"),
            penalty(5, xdr_mc="武汉长江建筑工程有限公司"),
        ],
        chunk_rows=1,
    )
    assert again.inserted == 4
    assert [(w.code, w.field) for w in again.warnings] == [("row.name_mismatch", "xdr_mc")]
    assert "第 3、5 行（共 2 行）" in again.warnings[0].message_zh
