"""Domains as data: every catalogue item and list type has a domain; the file is checked against the
catalogue; the two items issue 11 added (XZQZ, XSPJ) are there as specified."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from xinyong.apply.catalogue import load_catalogue
from xinyong.catalog.domains import OTHER, load_domains, parse_domains
from xinyong.catalog.loader import load_catalog
from xinyong.catalog.models import DisclosureLevel
from xinyong.problems import ProblemError


def packaged() -> dict:
    text = resources.files("xinyong.catalog").joinpath("data", "domains.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_every_item_and_list_type_has_a_domain() -> None:
    domains = load_domains()
    assert set(load_catalog().codes) <= set(domains.file.items)
    assert {t.code for t in load_catalogue().list_types} <= set(domains.file.list_types)


def test_a_record_takes_its_departments_domain() -> None:
    domains = load_domains()
    assert domains.of_record("XZCF", "武汉市生态环境局") == "environment"
    assert domains.of_record("XZQZ", "国家税务总局武汉市税务局") == "tax"
    assert domains.of_record("XZCF", "武汉市某某办公室") == OTHER  # nothing is dropped
    assert domains.of_record("QJSK", None) == "tax"
    assert domains.of_list_type("SXBZXR") == "judicial"


def test_an_unmapped_item_is_refused_and_the_packaged_file_loads() -> None:
    data = packaged()
    del data["items"]["XZQZ"]
    with pytest.raises(ProblemError) as refused:
        parse_domains(yaml.safe_dump(data, allow_unicode=True))
    assert "XZQZ" in str(refused.value)
    assert parse_domains(yaml.safe_dump(packaged(), allow_unicode=True)).special.default_years == 3


def test_an_unknown_domain_is_refused() -> None:
    data = packaged()
    data["list_types"]["SXBZXR"] = "nowhere"
    with pytest.raises(ProblemError):
        parse_domains(yaml.safe_dump(data, allow_unicode=True))


def test_coercion_and_criminal_judgments_are_catalogued() -> None:
    catalog = load_catalog()
    xzqz = catalog.item("XZQZ")
    assert xzqz.disclosure_level == DisclosureLevel.PUBLIC
    assert xzqz.source_key == ("qz_wsh",) or list(xzqz.source_key) == ["qz_wsh"]
    kinds = xzqz.field("qz_lb").enum
    assert "查封场所、设施或者财物" in kinds and "代履行" in kinds  # 行政强制法 第九条, 第十二条
    for code in ("xdr_mc", "xdr_lb", "xdr_dm1", "qz_wsh", "qz_jdrq", "qz_jg", "qz_sjly", "qz_sjlydm"):
        assert xzqz.field(code).required or xzqz.field(code).required_if is not None
    xspj = catalog.item("XSPJ")
    assert xspj.disclosure_level == DisclosureLevel.GOVERNMENT
    assert xspj.provider and xspj.source and "565" in xspj.source
    assert xspj.field("pj_zjhm").sensitive
