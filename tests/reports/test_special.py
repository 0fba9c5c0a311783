"""The special report (专项信用报告): per chosen domain either "no record found" or the records; a penalty
under its department's domain; a clean subject clean in every domain; a person's only for the person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from disclose.builders import COMPANY, LICENSER, SUBMITTER, _licence, write_file
from web.conftest import Portal
from xinyong.codes import make_uscc
from xinyong.collect.service import ingest

from .conftest import pdf_text, squeeze

CLEAN = make_uscc("9", "1", "420106", "MA4KCL01")


def special(portal: Portal, code: str, fmt: str = "json", **extra: Any) -> Any:
    response = portal.client("public").post(
        f"/api/v1/reports?format={fmt}", json={"subject": code, "kind": "special", **extra}
    )
    assert response.status_code == 200, response.text
    return response


def clean_subject(portal: Portal, tmp_path: Path) -> str:
    """A company with nothing but a licence (which the special report does not cover)."""
    row = {
        **_licence("武审许〔2022〕9号", "2022-03-01", "2099-12-31", "营业执照"),
        "xdr_mc": "武汉清白科技有限公司",
    }
    row["xdr_dm1"] = CLEAN
    path = write_file(tmp_path / "clean.csv", portal.timeline.catalog, "XZXK", [row])
    assert ingest(portal.runtime, path=path, item_code="XZXK", submitter_uscc=SUBMITTER).rejected == 0
    assert LICENSER  # the licensing bureau is registered by the timeline
    return CLEAN


def test_a_clean_subject_has_no_record_in_every_chosen_domain(portal: Portal, tmp_path: Path) -> None:
    code = clean_subject(portal, tmp_path)
    chosen = ["market", "tax", "environment", "judicial"]
    report = special(portal, code, domains=chosen).json()["report"]
    assert [d["code"] for d in report["special"]["domains"]] == chosen
    assert all(not d["found"] and not d["records"] for d in report["special"]["domains"])
    text = pdf_text(special(portal, code, "pdf", domains=chosen).content)
    assert text.count("未发现相关记录") == len(chosen)
    for name in ("市场监管领域", "税务领域", "生态环境领域"):
        assert name in text


def test_a_penalty_is_listed_under_its_departments_domain(portal: Portal) -> None:
    keys = portal.timeline.keys
    report = special(portal, COMPANY).json()["report"]
    domains = {d["code"]: d for d in report["special"]["domains"]}
    environment = {r["source_key"] for r in domains["environment"]["records"]}
    market = {r["source_key"] for r in domains["market"]["records"]}
    assert {keys["P1"], keys["P2"], keys["P3"]} <= environment  # 武汉市生态环境局 (P3: 轻微, still a penalty)
    assert market == {keys["P4"]}  # 武汉市市场监督管理局
    assert keys["P5"] not in environment  # decided 2019: before the 3-year period
    assert not domains["tax"]["found"] and not domains["tax"]["records"]
    assert all(keys["L1"] != r["source_key"] for d in domains.values() for r in d["records"])  # licences
    text = pdf_text(special(portal, COMPANY, "pdf").content)
    environment_part = text[text.index("生态环境领域") :]
    assert squeeze(keys["P2"]) in environment_part


def test_a_repaired_penalty_leaves_the_special_report(portal: Portal) -> None:
    portal.timeline.set_state("P2", "repaired")
    report = special(portal, COMPANY).json()["report"]
    listed = {r["source_key"] for d in report["special"]["domains"] for r in d["records"]}
    assert portal.timeline.keys["P2"] not in listed
    assert portal.timeline.keys["P1"] in listed  # the sibling stays


def test_the_period_narrows_the_report(portal: Portal) -> None:
    report = special(portal, COMPANY, **{"from": "2026-01-01", "to": "2026-06-15"}).json()["report"]
    listed = {r["source_key"] for d in report["special"]["domains"] for r in d["records"]}
    keys = portal.timeline.keys
    assert keys["P4"] in listed and keys["P3"] in listed and keys["P2"] not in listed
    bad = portal.client("public").post(
        "/api/v1/reports",
        json={"subject": COMPANY, "kind": "special", "from": "2026-06-15", "to": "2026-01-01"},
    )
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "report.bad_period"


def test_a_persons_special_report_is_for_the_person_only(portal: Portal) -> None:
    person = portal.timeline.address(portal.timeline.person_id)
    refused = portal.client("public").post("/api/v1/reports", json={"subject": person, "kind": "special"})
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "report.special_self_only"
    # an organisation's is anyone's (the sibling)
    assert special(portal, COMPANY).status_code == 200
