"""Objections and credit repair through the API, on SQLite and PostgreSQL: the signed-in subject files and
applies for its own records only, the platform forwards, only the record's source department (or the
platform) decides, and every step lands in the parties' inboxes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from disclose.builders import COMPANY, ENV_BUREAU
from xinyong.runtime import Runtime
from xinyong.security.models import audit_log
from xinyong.store.tables import records

from .casework_world import EXE, PDF, Casework, build_casework


@pytest.fixture
def case(runtime: Runtime, tmp_path: Path) -> Casework:
    return build_casework(runtime, tmp_path)


def titles(client, lang: str = "zh") -> list[str]:  # type: ignore[no-untyped-def]
    answer = client.get("/api/v1/me/inbox")
    assert answer.status_code == 200, answer.text
    return [n["title"][lang] for n in answer.json()["notifications"]]


def public_value(case: Casework, key: str, field: str) -> str | None:
    answer = case.clients["public"].get(f"/api/v1/subjects/{COMPANY}").json()
    found = [r for r in answer["records"] if r["source_key"] == key]
    return found[0]["data"].get(field) if found else None


def test_objection_filed_forwarded_and_corrected_by_the_source(case: Casework) -> None:
    rights = case.rights
    record, key = rights.ids["OBJECTED"], rights.keys["OBJECTED"]
    case.at("2026-09-30T09:00:00")
    c = case.clients
    # A program renamed .pdf is refused by its content, and nothing is filed.
    exe = c["subject"].post(
        "/api/v1/objections",
        data={"record_id": record, "reason": "罚款金额有误", "kind": "wrong"},
        files={"attachments": ("缴款凭证.pdf", EXE, "application/pdf")},
    )
    assert exe.status_code == 422, exe.text
    assert exe.json()["detail"]["code"] == "attachment.type"
    assert c["subject"].get("/api/v1/me/applications").json()["objections"] == []
    # The same objection with a real PDF is filed and the record is marked at once.
    filed = c["subject"].post(
        "/api/v1/objections",
        data={"record_id": record, "reason": "罚款金额有误", "kind": "wrong"},
        files={"attachments": ("缴款凭证.pdf", PDF, "application/pdf")},
    )
    assert filed.status_code == 201, filed.text
    objection = filed.json()
    assert (objection["state"], objection["record"]["state"]) == ("open", "disputed")
    assert [a["media_type"] for a in objection["attachments"]] == ["application/pdf"]
    assert objection["due"]["forward"]["due_on"] == "2026-10-09"  # across National Day
    assert f"异议 {objection['id']} 已受理" in titles(c["subject"])
    assert f"新异议 {objection['id']} 待处理" in titles(c["platform"])
    # Only the platform forwards.
    oid = objection["id"]
    assert c["source"].post(f"/api/v1/objections/{oid}/forward").status_code == 403
    case.at("2026-10-09T09:00:00")
    forwarded = c["platform"].post(f"/api/v1/objections/{oid}/forward")
    assert forwarded.status_code == 200 and forwarded.json()["state"] == "forwarded"
    assert forwarded.json()["due"]["provider_decide"]["due_on"] == "2026-10-15"
    queue = c["source"].get("/api/v1/tasks").json()["tasks"]
    assert [(t["step"], t["matter"]["id"]) for t in queue] == [("objection.provider_decide", oid)]
    assert c["other"].get("/api/v1/tasks").json()["tasks"] == []
    assert f"异议 {oid} 待本单位决定" in titles(c["source"])
    # Another department may neither read nor decide it; the record's source decides.
    decision = {"outcome": "corrected", "reason": "核实后更正罚款金额", "values": {"cf_nr_fk": "0.5"}}
    assert c["other"].get(f"/api/v1/objections/{oid}").status_code == 403
    refused = c["other"].post(f"/api/v1/objections/{oid}/decision", json=decision)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "objection.not_decider"
    assert public_value(case, key, "cf_nr_fk") == "1"
    decided = c["source"].post(f"/api/v1/objections/{oid}/decision", json=decision)
    assert decided.status_code == 200, decided.text
    assert (decided.json()["outcome"], decided.json()["decided_by"]) == ("corrected", ENV_BUREAU[0])
    assert public_value(case, key, "cf_nr_fk") == "0.5"
    # Two clerks at once: the second is told it was decided.
    again = c["platform"].post(f"/api/v1/objections/{oid}/decision", json=decision)
    assert again.status_code == 409 and again.json()["detail"]["code"] == "objection.state"
    inbox = c["subject"].get("/api/v1/me/inbox").json()["notifications"]
    assert (
        inbox[0]["title"]["zh"] == f"异议 {oid} 已办结：更正"
        and "核实后更正罚款金额" in inbox[0]["body"]["zh"]
    )
    mine = c["subject"].get("/api/v1/me/applications").json()
    assert [o["id"] for o in mine["objections"]] == [oid]


def test_a_subject_acts_only_on_its_own_records(case: Casework) -> None:
    t = case.rights.timeline
    case.at("2026-09-30T09:00:00")
    c = case.clients
    others = t.ids["PERSON"]  # a penalty of a natural person, not the company's
    refused = c["subject"].post("/api/v1/objections", data={"record_id": others, "reason": "不是我们的"})
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "rights.not_own_record"
    check = c["subject"].get(f"/api/v1/records/{others}/repair-eligibility")
    assert check.status_code == 403
    # The platform at a service counter files for the subject whose identity it checked.
    counter = c["platform"].post("/api/v1/objections", data={"record_id": others, "reason": "非本人信息"})
    assert counter.status_code == 201 and counter.json()["filed_via"] == "counter"
    # The company cannot read that objection; the platform can.
    oid = counter.json()["id"]
    assert c["subject"].get(f"/api/v1/objections/{oid}").status_code == 403
    assert c["platform"].get(f"/api/v1/objections/{oid}").status_code == 200
    with (
        case.runtime.engine.connect() as conn
    ):  # the staff's read of the case is audited, the refusal not shown
        reads = conn.execute(
            sa.select(audit_log.c.object_id).where(audit_log.c.action == "objection.read")
        ).scalars()
        assert [str(r) for r in reads] == [str(oid)]
    # A second open objection on the same record is refused.
    second = c["platform"].post("/api/v1/objections", data={"record_id": others, "reason": "再次"})
    assert second.status_code == 409 and second.json()["detail"]["code"] == "objection.already_open"


def test_repair_checked_applied_and_approved(case: Casework) -> None:
    rights = case.rights
    record, key = rights.ids["REPAIRED"], rights.keys["REPAIRED"]
    case.at("2026-09-30T09:00:00")
    c = case.clients
    early = c["subject"].get(f"/api/v1/records/{record}/repair-eligibility").json()
    assert early["eligible"] is False and early["earliest"] == "2026-10-01"
    assert [m["code"] for m in early["missing"]] == ["minimum_period_passed"]
    case.at("2026-10-08T10:00:00")
    assert c["subject"].get(f"/api/v1/records/{record}/repair-eligibility").json()["eligible"] is True
    form = {"record_id": record, "commitment": "true", "rectified": "true", "to_source": "true"}
    unpaid = c["subject"].post("/api/v1/repairs", data=form)
    assert unpaid.status_code == 422 and "repair.duties_fulfilled" in unpaid.text
    applied = c["subject"].post(
        "/api/v1/repairs",
        data={**form, "paid": "true"},
        files={"proof": ("收据.pdf", PDF, "application/pdf")},
    )
    assert applied.status_code == 201, applied.text
    aid = applied.json()["id"]
    assert (applied.json()["state"], applied.json()["fee"], applied.json()["decider"]) == (
        "submitted",
        0,
        ENV_BUREAU[0],
    )
    assert f"信用修复申请 {aid} 待决定" in titles(c["source"])
    refused = c["other"].post(f"/api/v1/repairs/{aid}/decision", json={"approve": True, "reason": "同意"})
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "repair.not_decider"
    assert public_value(case, key, "cf_wsh") == key
    approved = c["source"].post(f"/api/v1/repairs/{aid}/decision", json={"approve": True, "reason": "已履行"})
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    assert public_value(case, key, "cf_wsh") is None
    with case.runtime.engine.connect() as conn:
        assert conn.execute(sa.select(records.c.state).where(records.c.id == record)).scalar() == "repaired"
    assert titles(c["subject"])[0] == f"信用修复申请 {aid}：准予修复"
    assert [r["id"] for r in c["subject"].get("/api/v1/me/applications").json()["repairs"]] == [aid]


def test_inbox_marks_read_only_ones_own(case: Casework) -> None:
    rights = case.rights
    case.at("2026-09-30T09:00:00")
    c = case.clients
    c["subject"].post("/api/v1/objections", data={"record_id": rights.ids["OBJECTED"], "reason": "有误"})
    mine = c["subject"].get("/api/v1/me/inbox").json()["notifications"][0]
    assert c["platform"].post(f"/api/v1/me/inbox/{mine['id']}/read").status_code == 404
    assert c["subject"].post(f"/api/v1/me/inbox/{mine['id']}/read").json() == {"id": mine["id"], "read": True}
    assert c["subject"].get("/api/v1/me/inbox").json()["notifications"][0]["read"] is True


def test_the_platform_moves_a_not_mine_record_through_the_api(case: Casework) -> None:
    from xinyong.subjects.service import Candidate, resolve_many

    right = "91350100M000100Y43"
    with case.runtime.engine.begin() as conn:
        resolve_many(
            conn,
            [Candidate({"uscc": right}, name="福州某某科技有限公司")],
            clock=case.runtime.clock,
            protector=case.runtime.protector,
        )
    key = case.rights.keys["OBJECTED"]
    c = case.at("2026-09-30T09:00:00").clients
    filed = c["subject"].post(
        "/api/v1/objections",
        data={"record_id": case.rights.ids["OBJECTED"], "reason": "非本公司", "kind": "not_mine"},
    )
    assert filed.status_code == 201, filed.text
    oid = filed.json()["id"]
    move = {"outcome": "moved", "reason": "经核实为同名企业", "to_subject": right}
    assert c["platform"].post(f"/api/v1/objections/{oid}/forward").status_code == 200
    refused = c["source"].post(f"/api/v1/objections/{oid}/decision", json=move)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "objection.move_not_platform"
    moved = c["platform"].post(f"/api/v1/objections/{oid}/decision", json=move)
    assert moved.status_code == 200, moved.text
    assert moved.json()["move"]["to_subject"] == right
    mine = c["public"].get(f"/api/v1/subjects/{COMPANY}").json()["records"]
    theirs = c["public"].get(f"/api/v1/subjects/{right}").json()["records"]
    assert key not in {r["source_key"] for r in mine} and key in {r["source_key"] for r in theirs}
    assert any("已办结" in t for t in titles(c["subject"]))
