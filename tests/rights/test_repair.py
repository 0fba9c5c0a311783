"""Credit repair walked through the calendar across the 2026 National Day holiday, on SQLite and PostgreSQL:
eligibility computed from the policy, the application held to its working days, and the repaired record
gone from every public channel — the subject API, the portal page, the CSV export, the 双公示 list and its
notice — at the moment of approval, with an event for subscribers.

2026 calendar: 国庆节 Thu 1 – Wed 7 October are holidays; Saturday 10 October is a 调休 working day.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, ENV_BUREAU, SUBMITTER
from web.conftest import Portal, make_portal
from xinyong.config import Settings
from xinyong.events import events_after
from xinyong.runtime import Runtime
from xinyong.store.tables import records

from .builders import Rights, add_extra_records
from .cli_helpers import Run, make_cli

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(64)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Run:
    return make_cli(settings, monkeypatch)


@pytest.fixture
def world(runtime: Runtime, tmp_path: Path) -> tuple[Portal, Rights]:
    portal = make_portal(runtime, tmp_path)
    return portal, add_extra_records(portal.timeline, tmp_path)


def receipt(tmp_path: Path, name: str = "罚款缴纳凭证.pdf", content: bytes = PDF) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def public_channels(client: TestClient, key: str) -> dict[str, bool]:
    """Whether the record with this key shows in each public channel."""
    api = client.get(f"/api/v1/subjects/{COMPANY}")
    page = client.get(f"/subjects/{COMPANY}", headers={"accept": "text/html"})
    csv = client.get(f"/api/v1/subjects/{COMPANY}", params={"format": "csv"})
    listed = client.get("/api/v1/records", params={"item": "XZCF", "provider": ENV_BUREAU[0], "limit": 100})
    listed_csv = client.get(
        "/api/v1/records", params={"item": "XZCF", "provider": ENV_BUREAU[0], "format": "csv"}
    )
    assert all(r.status_code == 200 for r in (api, page, csv, listed, listed_csv))
    return {
        "api": any(r["source_key"] == key for r in api.json()["records"]),
        "page": key in page.text,
        "csv": key in csv.text,
        "list": any(r["source_key"] == key for r in listed.json()["items"]),
        "list_csv": key in listed_csv.text,
    }


def test_repair_across_national_day(world: tuple[Portal, Rights], cli: Run, tmp_path: Path) -> None:
    portal, rights = world
    record, key = rights.ids["REPAIRED"], rights.keys["REPAIRED"]
    public = portal.client("public")

    # Tue 29 Sep: a 一般 penalty of 30 Jun has 3 months' minimum publicity, to Wed 30 Sep; not yet.
    early = cli(
        "repair", "check", "--record", str(record), "--as-of", "2026-09-29", "--json", at="2026-09-29T10:00"
    )
    assert (early["eligible"], early["earliest"], early["class"]) == (False, "2026-10-01", "一般")
    assert [m["code"] for m in early["missing"]] == ["minimum_period_passed"]
    assert (
        "2026-10-01 起可申请" in early["missing"][0]["zh"]
        and "apply from 2026-10-01" in early["missing"][0]["en"]
    )
    # From Thu 1 Oct (a holiday: publicity periods are calendar periods) the platform's conditions are met;
    # the materials still to supply are listed.
    ready = cli(
        "repair", "check", "--record", str(record), "--as-of", "2026-10-01", "--json", at="2026-10-01T10:00"
    )
    assert ready["eligible"] is True and ready["missing"] == []
    assert {m["code"] for m in ready["materials"]} == {"application", "commitment", "proof_of_performance"}

    # Thu 8 Oct: applying without paying the fine is refused, with the reason; nothing is stored.
    unpaid = cli(
        "repair", "apply", "--record", str(record), "--commitment", "--rectified",
        "--proof", receipt(tmp_path), "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "repair.duties_fulfilled" in unpaid.stderr and "罚款" in unpaid.stderr
    # A program renamed .pdf is refused by its content.
    exe = cli(
        "repair", "apply", "--record", str(record), "--commitment", "--paid", "--rectified",
        "--proof", receipt(tmp_path, "收据.pdf", EXE), "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "attachment.type" in exe.stderr
    applied = cli(
        "repair", "apply", "--record", str(record), "--commitment", "--paid", "--rectified",
        "--proof", receipt(tmp_path), "--json", at="2026-10-08T10:00",
    )  # fmt: skip
    assert (applied["state"], applied["class"], applied["fee"]) == ("submitted", "一般", 0)
    assert [a["media_type"] for a in applied["attachments"]] == ["application/pdf"]
    # Decided within 5 working days of Thu 8: Fri 9 (1), Sat 10 调休 (2), Mon 12 (3), Tue 13 (4), Wed 14 (5).
    assert applied["due"]["decide"]["due_on"] == "2026-10-14"
    assert applied["due"]["decide"]["rule"] == "repair.decide_within"

    portal.runtime.clock.set("2026-10-12T09:00")  # type: ignore[attr-defined]
    assert public_channels(public, key) == dict.fromkeys(("api", "page", "csv", "list", "list_csv"), True)
    assert public.get(f"/api/v1/records/{record}").status_code == 200
    with portal.runtime.engine.connect() as conn:
        before = max((e["id"] for e in events_after(conn, after=0)), default=0)

    # Mon 12 Oct: approved. The record leaves every public channel in the same transaction.
    approved = cli(
        "repair", "decide", str(applied["id"]), "--approve", "--reason", "已履行义务并作出信用承诺",
        "--json", at="2026-10-12T10:00",
    )  # fmt: skip
    assert (approved["state"], approved["record"]["state"]) == ("approved", "repaired")
    assert approved["due"]["decide"]["done_on"] == "2026-10-12" and approved["due"]["decide"]["late"] is False
    leave = approved["due"]["leave_public"]
    assert (leave["state"], leave["done_on"], leave["rule"]) == (
        "done",
        "2026-10-12",
        "repair.leave_public_query_within",
    )

    portal.runtime.clock.set("2026-10-12T10:01")  # type: ignore[attr-defined]
    assert public_channels(public, key) == dict.fromkeys(("api", "page", "csv", "list", "list_csv"), False)
    assert public.get(f"/api/v1/records/{record}").status_code == 404
    # The name search index holds names only: the company is still found, and no record comes with it.
    found = public.get("/api/v1/search", params={"q": "华信科技"}).json()["results"]
    assert [h["code"] for h in found] == [COMPANY] and key not in str(found)
    # The subject itself and government bodies still see it, marked 已修复 (policy disclosure.states).
    own = portal.client("self").get(f"/api/v1/subjects/{COMPANY}", params={"level": "authorised"}).json()
    assert [m["zh"] for r in own["records"] if r["source_key"] == key for m in r["marks"]] == ["已修复"]

    with portal.runtime.engine.connect() as conn:
        new = events_after(conn, after=before)
        state = conn.execute(sa.select(records.c.state).where(records.c.id == record)).scalar()
    assert state == "repaired"
    assert [(e["type"], e["record_id"]) for e in new] == [("record.repaired", record)]
    assert new[0]["payload"]["subject"] == COMPANY and new[0]["payload"]["record"]["source_key"] == key


def test_repair_refusals_each_with_its_accepted_sibling(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    _, rights = world
    t = rights.timeline
    # A licence is not adverse information: nothing to repair. The penalty next to it may be repaired.
    licence = cli("repair", "check", "--record", str(t.ids["L1"]), "--json", at="2026-10-08T10:00")
    assert licence["eligible"] is False and [m["code"] for m in licence["missing"]] == ["not_adverse"]
    refused = cli(
        "repair", "apply", "--record", str(t.ids["L1"]), "--commitment", "--paid", "--rectified",
        "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "repair.not_adverse" in refused.stderr
    # P2, a 严重 penalty of 2024-03-01 (minimum 12 months, long passed), needs the severe class's extra
    # materials too (policy repair.materials_severe_extra).
    severe = cli("repair", "check", "--record", str(t.ids["P2"]), "--json", at="2026-10-08T10:00")
    assert severe["eligible"] is True and severe["class"] == "严重"
    assert {"training_certificate", "credit_report"} <= {m["code"] for m in severe["materials"]}
    missing = cli(
        "repair", "apply", "--record", str(t.ids["P2"]), "--commitment", "--rectified",
        "--proof", receipt(tmp_path), "--json", at="2026-10-08T10:00", code=1,
    )  # fmt: skip
    assert "repair.material.training_certificate" in missing.stderr
    applied = cli(
        "repair", "apply", "--record", str(t.ids["P2"]), "--commitment", "--rectified",
        "--proof", receipt(tmp_path), "--attach", f"training_certificate={receipt(tmp_path, 'cert.pdf')}",
        "--attach", f"credit_report={receipt(tmp_path, 'report.pdf')}", "--json", at="2026-10-08T10:00",
    )  # fmt: skip
    assert applied["state"] == "submitted"  # no fine on P2 (吊销许可证件): nothing to pay
    # A second application for the same record while one is pending is refused.
    again = cli(
        "repair", "apply", "--record", str(t.ids["P2"]), "--commitment", "--rectified",
        "--proof", receipt(tmp_path), "--json", at="2026-10-08T11:00", code=1,
    )  # fmt: skip
    assert "repair.application_open" in again.stderr

    # Only the deciding body (the record's source) or the platform decides: the collection system may not.
    wrong = cli(
        "repair", "decide", str(applied["id"]), "--approve", "--reason", "同意", "--org", SUBMITTER,
        "--json", at="2026-10-09T10:00", code=1,
    )  # fmt: skip
    assert "repair.not_decider" in wrong.stderr
    approved = cli(
        "repair", "decide", str(applied["id"]), "--approve", "--reason", "同意", "--org", ENV_BUREAU[0],
        "--json", at="2026-10-09T10:00",
    )  # fmt: skip
    assert approved["decided_by"] == ENV_BUREAU[0]
    twice = cli(
        "repair", "decide", str(applied["id"]), "--refuse", "--reason", "不同意", "--json",
        at="2026-10-09T10:05", code=1,
    )  # fmt: skip
    assert "repair.already_decided" in twice.stderr

    # A repair of the same kind within a year (policy repair.repeat_refusal_window) is refused; after the
    # window closes (9 Oct 2027), the next record may be repaired.
    repeat = cli("repair", "check", "--record", str(rights.ids["REPAIRED"]), "--json", at="2026-10-12T10:00")
    assert [m["code"] for m in repeat["missing"]] == ["repeat_within_window"]
    assert repeat["earliest"] == "2027-10-10"
    later = cli(
        "repair", "check", "--record", str(rights.ids["REPAIRED"]), "--as-of", "2027-10-10", "--json",
        at="2027-10-10T10:00",
    )  # fmt: skip
    assert later["eligible"] is True


def test_a_late_repair_decision_is_flagged_for_assessment(
    world: tuple[Portal, Rights], cli: Run, tmp_path: Path
) -> None:
    _, rights = world
    applied = cli(
        "repair", "apply", "--record", str(rights.ids["REPAIRED"]), "--commitment", "--paid", "--rectified",
        "--proof", receipt(tmp_path), "--json", at="2026-10-08T10:00",
    )  # fmt: skip
    # Due Wed 14 Oct; the run of Thu 15 finds it overdue and flags it (policy on_timeout flag_assessment).
    ran = cli("deadlines", "run", "--json", at="2026-10-15T01:00")
    assert [(o["step"], o["flagged"]) for o in ran["overdue"]] == [("repair.decide", True)]
    assert ran["suspended"] == []
    queue = cli(
        "deadlines", "list", "--org", "platform", "--view", "overdue", "--json", at="2026-10-15T09:00"
    )
    assert [(q["matter"]["id"], q["state"]) for q in queue] == [(applied["id"], "overdue")]
    done = cli(
        "repair", "decide", str(applied["id"]), "--refuse", "--reason", "材料不实", "--json",
        at="2026-10-16T09:00",
    )  # fmt: skip
    assert done["due"]["decide"]["late"] is True and done["record"]["state"] == "active"
    assert cli("deadlines", "list", "--org", "platform", "--view", "done", "--json", at="2026-10-16T09:00")
