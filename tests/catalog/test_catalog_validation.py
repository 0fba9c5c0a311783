"""A broken catalogue is refused with readable, located Problems — never a raw traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from catalog_testdata import field_of, item_of

from xinyong.catalog import load_catalog, parse_catalog
from xinyong.problems import ProblemError


def codes(problems):
    return [p.code for p in problems]


def test_unknown_source_key_field(raw, refuse):
    item_of(raw, "XZCF")["source_key"] = ["cf_wenhao"]
    (problem,) = refuse(raw)
    assert problem.code == "catalog.bad_reference"
    assert problem.field == "XZCF.cf_wenhao"
    assert problem.message_zh.startswith("目录事项 XZCF：")
    assert "source_key" in problem.message_zh and "cf_wenhao" in problem.message_zh
    assert "source_key names an unknown field cf_wenhao" in problem.message_en


def test_optional_source_key_field_is_refused(raw, refuse):
    item_of(raw, "XZCF")["source_key"] = ["cf_wsh", "bz"]
    (problem,) = refuse(raw)
    assert (
        problem.code == "catalog.invalid" and "bz" in problem.message_zh and "required" in problem.message_en
    )


def test_unknown_subject_field(raw, refuse):
    item_of(raw, "QJSK")["subject_fields"]["name"] = "qs_mingcheng"
    (problem,) = refuse(raw)
    assert problem.code == "catalog.bad_reference"
    assert "subject_fields.name" in problem.message_zh and "qs_mingcheng" in problem.message_zh


def test_required_if_unknown_field_and_unknown_value(raw, refuse):
    xzcf = item_of(raw, "XZCF")
    field_of(xzcf, "cf_nr_fk")["required_if"] = {"field": "cf_leibie", "contains": "罚款"}
    field_of(xzcf, "cf_nr_zkdx")["required_if"] = {"field": "cf_cflb", "contains": "吊销执照"}
    problems = refuse(raw)
    assert codes(problems) == ["catalog.bad_reference", "catalog.bad_reference"]
    assert "cf_leibie" in problems[0].message_zh
    assert "吊销执照" in problems[1].message_zh and "cf_cflb" in problems[1].message_zh


def test_condition_must_have_exactly_one_test(raw, refuse):
    field_of(item_of(raw, "XZCF"), "cf_nr_fk")["required_if"] = {
        "field": "cf_cflb",
        "contains": "罚款",
        "equals": "x",
    }
    (problem,) = refuse(raw)
    assert problem.code == "catalog.invalid"
    assert problem.field == "XZCF.cf_nr_fk.required_if"
    assert "equals、in、contains、present" in problem.message_zh


def test_enum_type_needs_values(raw, refuse):
    field_of(item_of(raw, "XZXK"), "xk_xklb").pop("enum")
    (problem,) = refuse(raw)
    assert problem.code == "catalog.invalid"
    assert problem.field == "XZXK.xk_xklb"
    assert "enum" in problem.message_zh and "XZXK" in problem.message_zh


def test_decimal_needs_precision_and_scale(raw, refuse):
    del field_of(item_of(raw, "XZCF"), "cf_nr_fk")["precision"]
    (problem,) = refuse(raw)
    assert "precision" in problem.message_zh and problem.field == "XZCF.cf_nr_fk"


def test_duplicate_field_codes(raw, refuse):
    xzcf = item_of(raw, "XZCF")
    xzcf["fields"].append(dict(field_of(xzcf, "bz"), name_zh="其他说明", name_en="Other", aliases=[]))
    problems = refuse(raw)
    assert "catalog.duplicate" in codes(problems)
    assert any("bz" in p.message_zh and "重复" in p.message_zh for p in problems)


def test_headers_colliding_after_normalisation(raw, refuse):
    # an alias that differs from another field's header only by full-width brackets and spaces
    field_of(item_of(raw, "XZCF"), "bz")["aliases"] = ["罚款金额（万元） "]
    (problem,) = refuse(raw)
    assert problem.code == "catalog.duplicate"
    assert "cf_nr_fk" in problem.message_zh and "bz" in problem.message_zh


def test_unknown_key_is_reported_with_its_location(raw, refuse):
    field_of(item_of(raw, "XZCF"), "cf_wsh")["requried"] = True
    (problem,) = refuse(raw)
    assert problem.code == "catalog.invalid"
    assert problem.field == "XZCF.cf_wsh.requried"
    assert problem.message_zh.startswith("目录事项 XZCF，字段 cf_wsh，键 requried：不认识的键")
    assert problem.message_en.startswith("item XZCF, field cf_wsh, key requried:")
    assert "errors.pydantic.dev" not in problem.message_en


def test_bad_enum_value_for_category_lists_what_is_allowed(raw, refuse):
    item_of(raw, "BZJL")["category"] = "优秀"
    (problem,) = refuse(raw)
    assert problem.field == "BZJL.category"
    assert "基础" in problem.message_zh and "'优秀'" in problem.message_zh


def test_english_labels_are_accepted_for_category_and_disclosure(raw, load):
    item = item_of(raw, "QJSK")
    item["category"] = "adverse"
    item["disclosure_level"] = "government"
    qjsk = load(raw).item("QJSK")
    assert qjsk.category.value == "不良"
    assert qjsk.disclosure_level.value == "政务共享"


def test_natural_person_id_number_must_be_sensitive(raw, refuse):
    field_of(item_of(raw, "BZJL"), "jl_zjhm")["sensitive"] = False
    (problem,) = refuse(raw)
    assert "sensitive" in problem.message_zh and problem.field == "BZJL.jl_zjhm"


def test_subject_kind_values_must_cover_the_kind_enum(raw, refuse):
    del item_of(raw, "XZCF")["subject_kind_values"]["个体工商户"]
    (problem,) = refuse(raw)
    assert "个体工商户" in problem.message_zh


def test_date_role_must_be_a_date_field(raw, refuse):
    item_of(raw, "XZCF")["date_fields"]["decision"] = "cf_wsh"
    (problem,) = refuse(raw)
    assert "date_fields.decision" in problem.message_zh and "date" in problem.message_en


def test_duplicate_item_codes(raw, refuse):
    raw["items"].append(dict(item_of(raw, "BZJL")))
    (problem,) = refuse(raw)
    assert problem.code == "catalog.duplicate" and "BZJL" in problem.message_zh


def test_several_problems_are_reported_together(raw, refuse):
    item_of(raw, "XZCF")["source_key"] = ["nope"]
    item_of(raw, "QJSK")["subject_fields"]["name"] = "nope"
    item_of(raw, "JYYC")["date_fields"]["act_end"] = "nope"
    problems = refuse(raw)
    assert [p.field for p in problems] == ["XZCF.nope", "QJSK.nope", "JYYC.nope"]


def test_invalid_yaml_is_reported_with_line_numbers():
    with pytest.raises(ProblemError) as caught:
        parse_catalog(b"edition: x\nitems: [\n  - a: b\n", origin="broken.yaml")
    (problem,) = caught.value.problems
    assert problem.code == "catalog.invalid"
    assert "broken.yaml" in problem.message_zh and "YAML" in problem.message_zh and "行" in problem.message_zh


def test_top_level_must_be_a_mapping():
    with pytest.raises(ProblemError) as caught:
        parse_catalog(b"- just\n- a list\n")
    assert caught.value.problems[0].code == "catalog.invalid"


def test_missing_top_level_keys():
    with pytest.raises(ProblemError) as caught:
        parse_catalog("edition: 测试\n".encode())
    assert {p.field for p in caught.value.problems} == {"source", "items"}
    assert all("缺少必填键" in p.message_zh for p in caught.value.problems)


def test_missing_file(tmp_path):
    with pytest.raises(ProblemError) as caught:
        load_catalog(tmp_path / "nope.yaml")
    assert caught.value.problems[0].code == "catalog.not_found"


def test_unknown_item_lists_the_known_codes():
    with pytest.raises(ProblemError) as caught:
        load_catalog().item("XZZZ")
    (problem,) = caught.value.problems
    assert problem.code == "catalog.unknown_item"
    assert "XZZZ" in problem.message_zh and "XZCF" in problem.message_zh and "XZCF" in problem.message_en
    assert isinstance(caught.value, KeyError)  # callers may treat it as a failed look-up


def test_unknown_field_lists_the_known_codes():
    with pytest.raises(ProblemError) as caught:
        load_catalog().item("XZCF").field("cf_nope")
    assert caught.value.problems[0].code == "catalog.unknown_field"
    assert "cf_wsh" in caught.value.problems[0].message_zh


def test_disclosure_period_checked_against_known_rules(raw, write):
    item_of(raw, "BZJL")["disclosure_period"] = "good_forever"
    path = write(raw)
    assert load_catalog(path).item("BZJL").disclosure_period == "good_forever"  # no policy given: free
    with pytest.raises(ProblemError) as caught:
        load_catalog(
            path,
            known_periods={"adverse_default_5y", "penalty_by_class", "licence_validity", "permanent_basic"},
        )
    (problem,) = caught.value.problems
    assert problem.code == "catalog.unknown_period" and "good_forever" in problem.message_zh


def test_disclosure_period_must_be_an_identifier(raw, refuse):
    item_of(raw, "BZJL")["disclosure_period"] = "good default"
    (problem,) = refuse(raw)
    assert problem.field == "BZJL.disclosure_period"


def test_the_new_edition_example_in_the_docs_loads(raw, load):
    docs = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"
    text = docs.read_text("utf-8")
    block = text.split("  - code: QXNMG", 1)[1].split("```", 1)[0]
    (example,) = yaml.safe_load("- code: QXNMG" + block.replace("\n  ", "\n"))
    raw["items"].append(example)
    item = load(raw).item("QXNMG")
    assert item.match_header("拖欠工资金额（元）").code == "qx_je"


def test_min_value_only_on_numbers(raw, refuse, load):
    field_of(item_of(raw, "XZCF"), "cf_sy")["min_value"] = 0
    (problem,) = refuse(raw)
    assert problem.code == "catalog.invalid" and "min_value" in problem.message_zh
    del field_of(item_of(raw, "XZCF"), "cf_sy")["min_value"]
    field_of(item_of(raw, "XZCF"), "cf_nr_fk")["min_value"] = "0.5"
    assert str(load(raw).item("XZCF").field("cf_nr_fk").min_value) == "0.5"


def test_names_person_marks_text_fields_only(raw, refuse):
    field_of(item_of(raw, "XZCF"), "cf_jdrq")["names_person"] = True
    (problem,) = refuse(raw)
    assert problem.code == "catalog.invalid" and "names_person" in problem.message_zh


def test_names_person_on_the_shipped_person_fields() -> None:
    marked = {(i.code, f.code) for i in load_catalog().items for f in i.fields if f.names_person}
    assert {("XZCF", "fr"), ("XZXK", "fr"), ("SXBZX", "sx_fr"), ("QJSK", "qs_fr")} <= marked
