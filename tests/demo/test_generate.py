import polars as pl

from xinyong.catalog.loader import load_catalog
from xinyong.codes.check import check
from xinyong.codes.divisions import prefecture_of
from xinyong.demo.generate import DEFECTS, make_world, penalties, registrations


def test_every_generated_identifier_is_valid_and_every_prefecture_is_covered():
    world = make_world(1500, seed=7)
    s = world.subjects
    for kind, column in (("uscc", "uscc"), ("regno", "regno"), ("idcard", "idcard")):
        for code in s[column].drop_nulls().to_list():
            assert check(code, kind).valid, (kind, code)
    for code in world.departments["uscc"].to_list():
        assert check(code, "uscc").valid
    prefectures = {prefecture_of(d).code for d in s["division"].to_list()}
    assert len(prefectures) == 17  # every prefecture-level unit of Hubei, 直管市 and 神农架 included
    assert set(s["kind"].unique()) == {"legal_person", "other_org", "individual_business", "natural_person"}


def test_the_same_seed_gives_the_same_world():
    assert make_world(200, seed=3).subjects.equals(make_world(200, seed=3).subjects)
    assert not make_world(200, seed=3).subjects.equals(make_world(200, seed=4).subjects)


def test_bad_rows_are_the_requested_share_and_cover_the_defect_kinds():
    item = load_catalog().item("XZCF")
    generated = penalties(make_world(400, seed=1), 3000, item=item, seed=5, bad_fraction=0.1)
    assert generated.frame.height == 3000
    assert generated.bad.sum() == 300
    assert set(generated.defects.drop_nulls().unique()) == set(DEFECTS)
    assert set(generated.frame.columns) <= {f.name_zh for f in item.fields}


def test_good_rows_are_untidy_the_way_real_exports_are():
    item = load_catalog().item("XZCF")
    frame = penalties(make_world(200, seed=1), 2000, item=item, seed=9).frame
    dates = frame["处罚决定日期"]
    assert dates.str.contains("年").any() and dates.str.contains("/").any()
    assert dates.str.contains(r"^\d{5}$").any()  # Excel serial numbers
    assert frame["行政相对人代码_1(统一社会信用代码)"].str.contains("[０-９]").any()  # full-width digits
    assert not frame.filter(pl.col("行政相对人类别") == "自然人")["证件号码"].is_null().any()


def test_a_business_founded_on_29_february_gets_its_term_end_too():
    """`xinyong demo --subjects 2000` failed: the world has a company founded 2016-02-29, and 30 years on
    was computed with date.replace, which has no 29 February 2046."""
    world = make_world(2000)
    founded = world.subjects.filter(pl.col("company_type").is_not_null())["established"].to_list()
    assert any((d.month, d.day) == (2, 29) for d in founded)  # the case is in this world
    rows = registrations(world, item=load_catalog().item("QYJC")).frame
    item = load_catalog().item("QYJC")
    ends = rows[item.field("qy_yyqxzhi").name_zh].drop_nulls().to_list()
    assert "2046-02-28" in ends
