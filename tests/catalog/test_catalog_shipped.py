"""The shipped demo catalogue loads and carries the 双公示 data items exactly (docs/domain.md §1.1)."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from xinyong.catalog import (
    Category,
    DisclosureLevel,
    FieldType,
    Identifier,
    SubjectKind,
    forbidden_match,
    load_catalog,
)

# docs/domain.md §1.1, 行政处罚, in the national template's column order.
XZCF_NAMES = [
    "行政相对人名称",
    "行政相对人类别",
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "行政相对人代码_3(组织机构代码)",
    "行政相对人代码_4(税务登记号)",
    "行政相对人代码_5(事业单位证书号)",
    "行政相对人代码_6(社会组织登记证号)",
    "法定代表人",
    "法定代表人证件类型",
    "法定代表人证件号码",
    "证件类型",
    "证件号码",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "罚款金额(万元)",
    "没收违法所得、没收非法财物的金额(万元)",
    "暂扣或吊销证照名称及编号",
    "处罚决定日期",
    "处罚有效期",
    "公示截止期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]
XZCF_REQUIRED = {
    "行政相对人名称",
    "行政相对人类别",
    "行政处罚决定书文号",
    "违法行为类型",
    "违法事实",
    "处罚依据",
    "处罚类别",
    "处罚内容",
    "处罚决定日期",
    "处罚有效期",
    "处罚机关",
    "处罚机关统一社会信用代码",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
}
XZCF_CONDITIONAL = {
    "行政相对人代码_1(统一社会信用代码)",
    "行政相对人代码_2(工商注册号)",
    "证件类型",
    "证件号码",
    "罚款金额(万元)",
    "没收违法所得、没收非法财物的金额(万元)",
    "暂扣或吊销证照名称及编号",
}
PENALTY_CATEGORIES = [
    "警告",
    "通报批评",
    "罚款",
    "没收违法所得",
    "没收非法财物",
    "暂扣许可证件",
    "降低资质等级",
    "吊销许可证件",
    "限制开展生产经营活动",
    "责令停产停业",
    "责令关闭",
    "限制从业",
    "行政拘留",
    "其他",
]
SUBJECT_NAMES = XZCF_NAMES[:13]
XZXK_NAMES = [
    *SUBJECT_NAMES,
    "行政许可决定文书名称",
    "行政许可决定文书号",
    "许可类别",
    "许可证书名称",
    "许可编号",
    "许可内容",
    "许可决定日期",
    "有效期自",
    "有效期至",
    "许可机关",
    "许可机关统一社会信用代码",
    "当前状态",
    "数据来源单位",
    "数据来源单位统一社会信用代码",
    "备注",
]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_shipped_catalogue_loads_with_its_items(catalog):
    assert catalog.edition == "湖北省公共信用信息目录（示范版）2026"
    assert catalog.codes == ("XZXK", "XZCF", "QYJC", "SXBZX", "QJSK", "JYYC", "BZJL", "XZQZ", "XSPJ")
    assert len(catalog) == 9
    assert "XZCF" in catalog


def test_default_catalogue_is_cached_and_hashed_from_its_bytes(catalog):
    data = resources.files("xinyong.catalog").joinpath("data", "hubei-demo.yaml").read_bytes()
    assert load_catalog() is catalog
    assert catalog.sha256 == hashlib.sha256(data).hexdigest()


def test_loading_the_same_file_by_path_gives_the_same_hash(catalog, tmp_path):
    path = tmp_path / "copy.yaml"
    path.write_bytes(resources.files("xinyong.catalog").joinpath("data", "hubei-demo.yaml").read_bytes())
    again = load_catalog(path)
    assert again.sha256 == catalog.sha256
    assert again is not catalog


def test_xzcf_has_exactly_the_national_penalty_fields(catalog):
    item = catalog.item("XZCF")
    assert [f.name_zh for f in item.fields] == XZCF_NAMES
    assert {f.name_zh for f in item.fields if f.required} == XZCF_REQUIRED
    assert {f.name_zh for f in item.fields if f.required_if is not None} == XZCF_CONDITIONAL


def test_xzxk_has_exactly_the_national_licence_fields(catalog):
    item = catalog.item("XZXK")
    assert [f.name_zh for f in item.fields] == XZXK_NAMES
    assert item.field("xk_xklb").enum == ("普通", "特许", "认可", "核准", "登记", "其他")
    status = item.field("xk_zt")
    assert status.enum == ("1", "2")
    assert status.enum_labels == {"1": "有效", "2": "无效"}
    assert status.enum_value("有效") == "1"


def test_xzcf_value_lists_and_formats(catalog):
    item = catalog.item("XZCF")
    categories = item.field("cf_cflb")
    assert categories.type is FieldType.MULTI_ENUM
    assert list(categories.enum or ()) == PENALTY_CATEGORIES
    assert categories.separators == (";", "；")
    assert item.field("xdr_lb").enum == ("法人及非法人组织", "自然人", "个体工商户")
    assert item.field("cf_wsh").max_length == 128
    for code in ("cf_nr_fk", "cf_nr_wfff"):
        amount = item.field(code)
        assert (amount.type, amount.precision, amount.scale, amount.unit) == (
            FieldType.DECIMAL,
            18,
            6,
            "万元",
        )
    uscc = item.field("xdr_dm1")
    assert uscc.identifier is Identifier.USCC_OR_PLACEHOLDER
    assert uscc.placeholder == ("00000000000000000X",)
    id_types = item.field("xdr_zjlx").enum or ()
    for kind in (
        "身份证",
        "护照",
        "港澳居民来往内地通行证",
        "台湾居民来往大陆通行证",
        "外国人永久居留身份证",
    ):
        assert kind in id_types
    assert item.field("xdr_zjlx").enum_value("居民身份证") == "身份证"
    assert item.timeliness == "publish_within"


def test_every_timeliness_rule_named_by_the_catalogue_is_in_the_policy(catalog):
    from xinyong.policy.loader import load_policy

    policy = load_policy()
    named = {item.timeliness for item in catalog.items if item.timeliness}
    assert named, "the 双公示 items must name their deadline"
    assert all(hasattr(policy.timeliness, name) for name in named)
    assert policy.timeliness.publish_within.working_days == 7


def test_items_have_the_brief_s_category_and_disclosure(catalog):
    expected = {
        "XZXK": (Category.BASIC, DisclosureLevel.PUBLIC),
        "XZCF": (Category.ADVERSE, DisclosureLevel.PUBLIC),
        "QYJC": (Category.BASIC, DisclosureLevel.PUBLIC),
        "SXBZX": (Category.SEVERE, DisclosureLevel.PUBLIC),
        "QJSK": (Category.ADVERSE, DisclosureLevel.PUBLIC),
        "JYYC": (Category.ADVERSE, DisclosureLevel.PUBLIC),
        "BZJL": (Category.GOOD, DisclosureLevel.PUBLIC),
        "XZQZ": (Category.ADVERSE, DisclosureLevel.PUBLIC),
        "XSPJ": (Category.ADVERSE, DisclosureLevel.GOVERNMENT),
    }
    assert {i.code: (i.category, i.disclosure_level) for i in catalog} == expected
    assert catalog.item("SXBZX").category.is_adverse
    assert Category.SEVERE.label_en == "seriously dishonest"
    assert DisclosureLevel.GOVERNMENT.label_en == "government"


@pytest.mark.parametrize(
    ("item", "names"),
    [
        (
            "SXBZX",
            [
                "执行案号",
                "执行法院",
                "立案日期",
                "生效法律文书确定的义务",
                "履行情况",
                "失信行为具体情形",
                "发布日期",
            ],
        ),
        ("QJSK", ["欠税税种", "欠税余额(元)", "欠税所属期", "主管税务机关"]),
        (
            "JYYC",
            ["列入经营异常名录原因", "列入日期", "作出决定机关(列入)", "移出经营异常名录原因", "移出日期"],
        ),
        ("BZJL", ["表彰名称", "授予机关", "授予日期", "文号"]),
        ("QYJC", ["统一社会信用代码", "企业名称", "成立日期", "登记机关", "登记状态"]),
    ],
)
def test_other_items_carry_their_key_fields(catalog, item, names):
    have = {f.name_zh for f in catalog.item(item).fields}
    assert set(names) <= have


def test_sxbzx_is_keyed_by_case_number(catalog):
    item = catalog.item("SXBZX")
    assert item.source_key[0] == "sx_ah"
    assert item.match_header("案号") is item.field("sx_ah")


def test_natural_person_identity_fields_are_sensitive(catalog):
    for item in catalog:
        if SubjectKind.NATURAL_PERSON in item.subject_kinds:
            assert item.field(item.subject_fields.id_number or "").sensitive, item.code
        for spec in item.fields:
            if spec.identifier in (Identifier.IDCARD, Identifier.ID_DOCUMENT):
                assert spec.sensitive, f"{item.code}.{spec.code}"


def test_every_item_and_every_shuanggongshi_field_names_its_source(catalog):
    for item in catalog:
        assert item.source, item.code
    for code in ("XZXK", "XZCF"):
        for spec in catalog.item(code).fields:
            assert spec.source, f"{code}.{spec.code}"


def test_no_shipped_header_trips_the_never_collect_rule(catalog):
    for item in catalog:
        for spec in item.fields:
            for text in (spec.code, *spec.headers):
                assert forbidden_match(text) is None, f"{item.code}.{spec.code}: {text}"


def test_disclosure_periods_are_rules_the_policy_knows(catalog):
    from xinyong.policy.loader import load_policy

    names = load_policy().disclosure.rule_names
    load_catalog(known_periods=names)
    assert {i.disclosure_period for i in catalog} <= set(names)


def test_subject_and_date_roles_point_at_real_fields(catalog):
    for item in catalog:
        for code in (*item.subject_fields.roles().values(), *item.date_fields.roles().values()):
            assert item.get_field(code) is not None
        for code in item.date_fields.roles().values():
            assert item.field(code).type is FieldType.DATE
    xzcf = catalog.item("XZCF")
    assert xzcf.date_fields.decision == "cf_jdrq"
    assert xzcf.date_fields.valid_until == "cf_yxq"
    assert xzcf.subject_kind_values == {
        "法人及非法人组织": (SubjectKind.LEGAL_PERSON, SubjectKind.OTHER_ORG),
        "自然人": (SubjectKind.NATURAL_PERSON,),
        "个体工商户": (SubjectKind.INDIVIDUAL_BUSINESS,),
    }


def test_every_text_field_declares_its_length_limit(catalog):
    # Issue 8 item 4: no unlimited text. The 双公示 standard's lengths where known ([C]/[U] marks beside
    # each in the YAML), a platform value where it is silent.
    missing = [
        f"{item.code}.{spec.code}"
        for item in catalog.file.items
        for spec in item.fields
        if spec.type.value in ("string", "text", "code") and not spec.max_length
    ]
    assert missing == []
    xzcf = catalog.item("XZCF")
    assert xzcf.field("cf_wsh").max_length == 128  # [C] DOMAIN §1.1
    assert xzcf.field("xdr_dm1").max_length == 18  # GB 32100


def test_every_amount_and_age_is_never_negative(catalog):
    numbers = [
        spec
        for item in catalog.file.items
        for spec in item.fields
        if spec.type.value in ("decimal", "integer")
    ]
    assert numbers and all(spec.min_value == 0 for spec in numbers)
