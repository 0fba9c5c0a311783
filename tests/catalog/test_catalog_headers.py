"""Header matching for the collection pipeline, and required_if conditions on real rows."""

from __future__ import annotations

import pytest

from xinyong.catalog import header_base, load_catalog, normalise_header


@pytest.fixture(scope="module")
def xzcf():
    return load_catalog().item("XZCF")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("行政相对人代码_1（统一社会信用代码）", "行政相对人代码_1(统一社会信用代码)"),
        ("\u3000行政 相对人名称 ", "行政相对人名称"),
        ("罚款金额【万元】", "罚款金额(万元)"),
        ("*处罚类别", "处罚类别"),
        ("\ufeffCF_WSH", "cf_wsh"),
        ("ＣＦ＿ＷＳＨ", "cf_wsh"),
    ],
)
def test_normalise_header(text, expected):
    assert normalise_header(text) == expected


def test_header_base_strips_parentheticals():
    assert header_base("行政相对人代码_1(统一社会信用代码)") == "行政相对人代码_1"
    assert header_base("(备注)") == ""


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("行政相对人代码_1(统一社会信用代码)", "xdr_dm1"),
        ("行政相对人代码_1（统一社会信用代码）", "xdr_dm1"),
        ("行政相对人代码_1", "xdr_dm1"),
        ("代码_1(统一社会信用代码)", "xdr_dm1"),
        ("代码_1（统一社会信用代码）", "xdr_dm1"),
        ("统一社会信用代码", "xdr_dm1"),
        ("行政相对人代码_2 (工商注册号)", "xdr_dm2"),
        ("行政处罚决定书文号", "cf_wsh"),
        ("处罚决定书文号", "cf_wsh"),
        ("决定文书号", "cf_wsh"),
        ("行政处罚决定书文号（必填）", "cf_wsh"),
        ("*行政处罚决定书文号", "cf_wsh"),
        ("行政 处罚 决定书 文号", "cf_wsh"),
        ("cf_wsh", "cf_wsh"),
        ("CF_WSH", "cf_wsh"),
        ("Penalty decision number", "cf_wsh"),
        ("罚款金额（万元）", "cf_nr_fk"),
        ("罚款金额", "cf_nr_fk"),
        ("罚款金额(元)", "cf_nr_fk"),
        ("没收违法所得、没收非法财物的金额（万元）", "cf_nr_wfff"),
        ("处罚机关统一社会信用代码", "cf_cfjgdm"),
        ("备注", "bz"),
    ],
)
def test_match_header(xzcf, header, code):
    spec = xzcf.match_header(header)
    assert spec is not None and spec.code == code


@pytest.mark.parametrize("header", ["", "   ", "处罚", "行政相对人", "unknown column", "()"])
def test_match_header_unknown(xzcf, header):
    assert xzcf.match_header(header) is None


def test_a_bare_header_shared_by_two_fields_matches_neither():
    jyyc = load_catalog().item("JYYC")
    assert jyyc.match_header("作出决定机关（列入）").code == "jy_lrjg"
    assert jyyc.match_header("作出决定机关(移出)").code == "jy_ycjg"
    assert jyyc.match_header("作出决定机关") is None


ORG = {"xdr_mc": "武汉某某有限公司", "xdr_lb": "法人及非法人组织", "cf_cflb": "警告"}


@pytest.mark.parametrize(
    ("row", "missing"),
    [
        (ORG, {"xdr_dm1"}),
        ({**ORG, "xdr_dm1": "91420100MA4KXXXX0X"}, set()),
        ({**ORG, "xdr_dm1": "91420100MA4KXXXX0X", "cf_cflb": "警告；罚款"}, {"cf_nr_fk"}),
        (
            {**ORG, "xdr_dm1": "91420100MA4KXXXX0X", "cf_cflb": "罚款;没收违法所得"},
            {"cf_nr_fk", "cf_nr_wfff"},
        ),
        ({**ORG, "xdr_dm1": "91420100MA4KXXXX0X", "cf_cflb": ["吊销许可证件"]}, {"cf_nr_zkdx"}),
        ({**ORG, "xdr_dm1": "91420100MA4KXXXX0X", "cf_cflb": "罚款", "cf_nr_fk": "0.5"}, set()),
        ({**ORG, "xdr_lb": "个体工商户", "xdr_dm1": "00000000000000000X"}, {"xdr_dm2"}),
        ({**ORG, "xdr_lb": "个体工商户", "xdr_dm1": "０００００００００００００００００Ｘ"}, {"xdr_dm2"}),
        ({**ORG, "xdr_lb": "自然人"}, {"xdr_zjlx", "xdr_zjhm"}),
    ],
)
def test_conditional_requirements(xzcf, row, missing):
    national_required = {f.code for f in xzcf.fields if f.required}
    got = {f.code for f in xzcf.missing_required(row)} - national_required
    assert got == missing


def test_is_required(xzcf):
    row = {"xdr_lb": "自然人", "cf_cflb": "罚款"}
    assert xzcf.is_required("cf_wsh", row)
    assert xzcf.is_required("cf_nr_fk", row)
    assert xzcf.is_required("xdr_zjhm", row)
    assert not xzcf.is_required("xdr_dm1", row)
    assert not xzcf.is_required("bz", row)


def test_present_condition():
    jyyc = load_catalog().item("JYYC")
    assert not jyyc.is_required("jy_ycrq", {"jy_ycyy": " "})
    assert jyyc.is_required("jy_ycrq", {"jy_ycyy": "已补报年报"})


def test_condition_describe(xzcf):
    assert xzcf.field("cf_nr_fk").required_if.describe() == "cf_cflb 含 罚款"
    # For a clerk or a visitor, by the item's headers in their language: never a field code.
    assert xzcf.field("cf_nr_fk").required_if.explain(xzcf) == "“处罚类别”包含“罚款”"
    assert xzcf.field("cf_nr_fk").required_if.explain(xzcf, "en").endswith("includes '罚款'")
    assert "cf_" not in xzcf.field("cf_nr_wfff").required_if.explain(xzcf, "en")
    assert "或" in xzcf.field("cf_nr_wfff").required_if.describe()


def test_multi_enum_split_accepts_both_separators(xzcf):
    assert xzcf.field("cf_cflb").split("警告; 罚款；没收违法所得;") == ["警告", "罚款", "没收违法所得"]


def test_condition_explain_names_fields_for_a_clerk(xzcf):
    # A provider's clerk reads the template's headers, never field codes like cf_cflb.
    fine = xzcf.field("cf_nr_fk").required_if
    assert fine.explain(xzcf) == "“处罚类别”包含“罚款”"
    assert fine.explain(xzcf, "en") == "'Penalty categories' includes '罚款'"
    either = xzcf.field("cf_nr_wfff").required_if.explain(xzcf)
    assert either == "“处罚类别”包含“没收违法所得”或“处罚类别”包含“没收非法财物”"
    assert (
        xzcf.field("xdr_dm1").required_if.explain(xzcf)
        == "“行政相对人类别”为“法人及非法人组织”或“个体工商户”"
    )
    jyyc = load_catalog().item("JYYC")
    for item in (xzcf, jyyc):
        for spec in item.fields:
            if spec.required_if is not None:
                for lang in ("zh", "en"):
                    text = spec.required_if.explain(item, lang)
                    assert not any(code in text for code in item.field_codes), text
