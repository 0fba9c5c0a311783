"""The never-collect rule: forbidden personal information refuses a catalogue; consent-only needs consent."""

from __future__ import annotations

import pytest
from catalog_testdata import field_of, item_of

from xinyong.catalog import RuleKind, default_rules, forbidden_match, load_catalog, load_forbidden_rules
from xinyong.catalog.forbidden import matcher_for


@pytest.mark.parametrize(
    ("header", "rule"),
    [
        ("宗教信仰", "religion"),
        ("本人宗教信仰情况", "religion"),
        ("宗教", "religion"),
        ("Religious belief", "religion"),
        ("zjxy", "religion"),
        ("基因检测结果", "genes"),
        ("DNA", "genes"),
        ("gene_test", "genes"),
        ("指纹", "fingerprints"),
        ("指纹信息", "fingerprints"),
        ("finger_print", "fingerprints"),
        ("Fingerprints", "fingerprints"),
        ("血型", "blood_type"),
        ("Blood Type", "blood_type"),
        ("blood_type", "blood_type"),
        ("bloodType", "blood_type"),
        ("ＢＬＯＯＤ　ＴＹＰＥ", "blood_type"),
        ("既往病史", "disease"),
        ("疾病情况", "disease"),
        ("Medical history", "disease"),
        ("个人年收入", "income"),
        ("income", "income"),
        ("银行存款余额", "deposits"),
        ("有价证券", "securities"),
        ("商业保险", "commercial_insurance"),
        ("不动产信息", "real_estate"),
        ("房产", "real_estate"),
        ("纳税数额", "tax_amount"),
        ("应纳税额", "tax_amount"),
    ],
)
def test_forbidden_match_finds_the_rule(header, rule):
    found = forbidden_match(header)
    assert found is not None and found.code == rule


@pytest.mark.parametrize(
    "header",
    [
        "行政相对人名称",
        "罚款金额(万元)",
        "没收违法所得、没收非法财物的金额(万元)",
        "欠税余额(元)",
        "社会保险",
        "欠缴社会保险费",
        "宗教活动场所名称",
        "General penalty class",  # "gene" must not match inside "general"
        "security deposit",  # 保证金 is business data, not a personal deposit
        "纳税信用等级",
        "处罚依据",
        "",
        "   ",
    ],
)
def test_forbidden_match_leaves_ordinary_headers_alone(header):
    assert forbidden_match(header) is None


def test_every_rule_names_its_legal_source():
    rules = default_rules()
    assert {r.code for r in rules} >= {
        "religion",
        "genes",
        "fingerprints",
        "blood_type",
        "disease",
        "income",
        "deposits",
        "securities",
        "commercial_insurance",
        "real_estate",
        "tax_amount",
    }
    for rule in rules:
        assert "征信业管理条例" in rule.source and "第十四条" in rule.source, rule.code
    consent = {r.code for r in rules if r.kind is RuleKind.CONSENT}
    assert consent == {
        "income",
        "deposits",
        "securities",
        "commercial_insurance",
        "real_estate",
        "tax_amount",
    }


def test_custom_rules_can_be_matched_without_touching_the_default(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(
        "source: test\nrules:\n  - {code: face, kind: forbidden, name_zh: 人脸, name_en: face, "
        "keywords_zh: [人脸], keywords_en: [face image], source: test}\n",
        "utf-8",
    )
    matcher = matcher_for(load_forbidden_rules(path))
    assert matcher.match("人脸照片").code == "face"
    assert matcher.match("Face_Image").code == "face"
    assert forbidden_match("人脸照片") is None


@pytest.mark.parametrize(
    ("where", "value", "rule_zh", "rule_en"),
    [
        ("name_zh", "宗教信仰", "宗教信仰", "religious belief"),
        ("code", "blood_type", "血型", "blood type"),
        ("alias", "指纹信息", "指纹", "fingerprints"),
        ("name_zh", "既往病史", "疾病和病史", "disease and medical history"),
        ("name_en", "Genetic test", "基因", "genes"),
    ],
)
def test_a_catalogue_declaring_forbidden_data_is_refused(raw, refuse, where, value, rule_zh, rule_en):
    spec = {"code": "xdr_extra", "name_zh": "附加信息", "name_en": "Extra", "type": "string"}
    if where == "alias":
        spec["aliases"] = [value]
    else:
        spec[where] = value
    item_of(raw, "XZCF")["fields"].append(spec)
    problems = refuse(raw)
    assert [p.code for p in problems] == ["catalog.forbidden_field"]
    problem = problems[0]
    assert problem.field == f"XZCF.{spec['code']}"
    assert "XZCF" in problem.message_zh and spec["code"] in problem.message_zh
    assert rule_zh in problem.message_zh and "征信业管理条例" in problem.message_zh
    assert "XZCF" in problem.message_en and rule_en in problem.message_en


def test_consent_required_cannot_rescue_a_forbidden_field(raw, refuse):
    item = item_of(raw, "XZCF")
    item["consent_required"] = True
    item["fields"].append({"code": "xx", "name_zh": "血型", "name_en": "Blood group", "type": "string"})
    assert [p.code for p in refuse(raw)] == ["catalog.forbidden_field"]


def test_consent_only_data_is_refused_without_consent(raw, refuse):
    item_of(raw, "XZCF")["fields"].append(
        {"code": "grsr", "name_zh": "个人年收入", "name_en": "Annual income", "type": "string"}
    )
    problems = refuse(raw)
    assert [p.code for p in problems] == ["catalog.forbidden_field"]
    assert "consent_required" in problems[0].message_zh
    assert "收入" in problems[0].message_zh and "书面同意" in problems[0].message_zh
    assert "written consent" in problems[0].message_en


def test_consent_only_data_is_accepted_when_the_item_declares_consent(raw, load):
    item = item_of(raw, "XZCF")
    item["consent_required"] = True
    item["fields"].append(
        {"code": "grsr", "name_zh": "个人年收入", "name_en": "Annual income", "type": "string"}
    )
    catalog = load(raw)
    assert catalog.item("XZCF").consent_required
    assert catalog.item("XZCF").refuses("个人年收入") is None
    assert catalog.item("XZCF").refuses("血型").code == "blood_type"


def test_consent_rules_concern_persons_not_enterprises(raw, load):
    # QYJC holds only legal persons and other organisations: an enterprise's revenue is not personal data
    item_of(raw, "QYJC")["fields"].append(
        {
            "code": "qy_yysr",
            "name_zh": "营业收入(万元)",
            "name_en": "Revenue",
            "type": "decimal",
            "precision": 18,
            "scale": 6,
        }
    )
    qyjc = load(raw).item("QYJC")
    assert qyjc.refuses("营业收入") is None
    assert qyjc.refuses("宗教信仰") is not None


def test_item_refuses_upload_columns_for_the_pipeline():
    xzcf = load_catalog().item("XZCF")
    assert xzcf.refuses("行政处罚决定书文号") is None
    assert xzcf.refuses("血型").code == "blood_type"
    assert xzcf.refuses("月收入").code == "income"  # XZCF holds persons and has no consent


def test_forbidden_alias_on_an_existing_field_is_caught(raw, refuse):
    field_of(item_of(raw, "XZXK"), "bz")["aliases"] = ["BZ", "病史备注"]
    problems = refuse(raw)
    assert problems[0].code == "catalog.forbidden_field"
    assert problems[0].field == "XZXK.bz"
