"""GB/T 2260 table: Hubei to county level, provinces elsewhere, former Hubei codes."""

from __future__ import annotations

import pytest

from xinyong.codes import division_name, hubei_counties, hubei_prefectures, lookup_division, prefecture_of
from xinyong.codes.divisions import edition


def test_hubei_has_17_prefecture_level_units_and_103_county_level_units():
    prefectures = hubei_prefectures()
    assert [p.code for p in prefectures] == [
        "420100", "420200", "420300", "420500", "420600", "420700", "420800", "420900", "421000",
        "421100", "421200", "421300", "422800", "429004", "429005", "429006", "429021",
    ]  # fmt: skip
    assert len(hubei_counties()) == 103
    assert len({d.code for d in hubei_counties()}) == 103
    assert all(d.current and d.level == "county" for d in hubei_counties())


def test_counts_per_prefecture():
    assert len(hubei_counties("420100")) == 13
    assert len(hubei_counties("武汉市")) == 13
    assert len(hubei_counties("恩施州")) == 8
    assert [d.code for d in hubei_counties("429004")] == ["429004"]
    with pytest.raises(KeyError):
        hubei_counties("430100")


def test_full_names():
    assert division_name("420102") == "湖北省武汉市江岸区"
    assert division_name("420100") == "湖北省武汉市"
    assert division_name("420000") == "湖北省"
    assert division_name("422801") == "湖北省恩施土家族苗族自治州恩施市"
    assert division_name("429021") == "湖北省神农架林区"
    assert division_name("421088") == "湖北省荆州市监利市"
    assert division_name("420882") == "湖北省荆门市京山市"


def test_other_provinces_get_their_province_name():
    assert division_name("110105") == "北京市"
    assert division_name("650102") == "新疆维吾尔自治区"
    assert division_name("990000") is None
    assert division_name("429099") is None  # Hubei is checked to county level


def test_former_hubei_codes_keep_their_names():
    jianli = lookup_division("421023")
    assert jianli is not None and not jianli.current
    assert jianli.full_name == "湖北省荆州市监利县"
    assert division_name("422425") == "湖北省荆州地区监利县"
    # a code reused for a renamed unit reads as today's unit
    assert division_name("420600") == "湖北省襄阳市"


def test_prefecture_of():
    assert prefecture_of("420102").code == "420100"
    assert prefecture_of("420100").code == "420100"
    assert prefecture_of("429004").code == "429004"
    assert prefecture_of("422425").code == "422400"  # former 荆州地区
    assert prefecture_of("110105") is None
    assert prefecture_of("420000") is None


def test_edition_is_recorded():
    assert "2020" in edition()


def test_short_names_for_the_demo_generator():
    assert {p.short for p in hubei_prefectures()} >= {"武汉", "恩施州", "仙桃", "神农架"}
