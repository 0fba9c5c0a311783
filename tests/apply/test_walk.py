"""The application chapter walked through on SQLite and PostgreSQL: a company proposed for a black list,
told, listed after its defence period, checked by a procurement department (the measure comes back with its
basis), its penalty repaired, the entry removed — and the very next check differs. A real webhook receiver
on 127.0.0.1 gets each event once, correctly signed, and the pull feed gives the same events in order.

2026 calendar: Tue 1 September + 5 working days = Tue 8 September (lists.defence_within).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from disclose.builders import COMPANY
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import GOVERNMENT, Portal, login
from xinyong.apply.push import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from xinyong.events import events_after

from .conftest import Receiver

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EVENTS = "list.entry_added,list.entry_removed,record.repaired"


def signed_in(portal: Portal, username: str, at: str) -> TestClient:
    """A fresh session at `at` (sessions end when the suite's clock jumps weeks ahead)."""
    portal.runtime.clock.set(at)  # type: ignore[attr-defined]
    return login(TestClient(portal.app), username)


def test_proposed_listed_checked_repaired_removed(
    world: tuple[Portal, Rights], cli: Run, receiver: Receiver, tmp_path: Path
) -> None:
    portal, rights = world
    record = rights.ids["REPAIRED"]

    sub = cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events", EVENTS, "--json",
              at="2026-09-01T08:00")  # fmt: skip
    assert sub["secret"].startswith("whsec_") and sub["id"] > 0

    # Tue 1 Sep: proposed and told; the defence period runs 5 working days, to Tue 8 Sep.
    proposed = cli(
        "lists", "propose", "--type", "AQSCYZSX", "--subject", COMPANY,
        "--reason", "发生较大生产安全责任事故", "--basis", "应急管理部令第11号 第五条",
        "--record", str(record),
        "--json", at="2026-09-01T09:00",
    )  # fmt: skip
    assert (proposed["state"], proposed["defence_due"]) == ("noticed", "2026-09-08")
    # Not yet published: the check finds nothing.
    gov = signed_in(portal, "wuhan-gov", "2026-09-02T10:00")  # 武汉市政务服务和大数据管理局
    before = gov.post("/api/v1/checks", json={"subject": COMPANY, "matter": "ZFCG"})
    assert before.status_code == 200, before.text
    before = before.json()
    assert (before["lists"], before["measures"]) == ([], [])

    # Deciding on the last day of the defence period is refused; the day after, it is accepted.
    early = cli("lists", "decide", str(proposed["id"]), "--valid-until", "2029-09-08", "--json",
                at="2026-09-08T17:00", code=1)  # fmt: skip
    assert "list.defence_running" in early.stderr and "2026-09-08" in early.stderr
    decided = cli("lists", "decide", str(proposed["id"]), "--valid-until", "2029-09-08", "--json",
                  at="2026-09-09T09:00")  # fmt: skip
    assert (decided["state"], decided["decided_on"], decided["valid_until"]) == (
        "listed",
        "2026-09-09",
        "2029-09-08",
    )

    # Thu 10 Sep: the procurement department checks the bidder and gets the mandatory measure with its basis.
    gov = signed_in(portal, "wuhan-gov", "2026-09-10T10:00")
    answer = gov.post("/api/v1/checks", json={"subject": COMPANY, "matter": "ZFCG"})
    assert answer.status_code == 200, answer.text
    checked = answer.json()
    assert checked["subject"]["code"] == COMPANY
    assert [e["list_type"] for e in checked["lists"]] == ["AQSCYZSX"]
    assert [(m["code"], m["mandatory"], m["effect"]) for m in checked["measures"]] == [
        ("AQSC-ZFCG", True, "punishment")
    ]
    assert "政府采购法" in checked["measures"][0]["basis"]
    # The command line answers the same question the same way.
    same = cli("check", COMPANY, "--matter", "ZFCG", "--org", GOVERNMENT, "--json", at="2026-09-10T10:05")
    assert [m["code"] for m in same["measures"]] == ["AQSC-ZFCG"] and same["check_id"] != checked["check_id"]

    # Feedback: only the checking organisation reports on its check.
    operator = login(TestClient(portal.app), "operator")  # the credit office
    other = operator.post(
        f"/api/v1/checks/{checked['check_id']}/feedback", json={"measure": "AQSC-ZFCG", "applied": True}
    )
    assert other.status_code == 403 and other.json()["detail"]["code"] == "check.not_yours"
    fed = gov.post(
        f"/api/v1/checks/{checked['check_id']}/feedback",
        json={"measure": "AQSC-ZFCG", "applied": True, "case_ref": "WHCG-2026-118"},
    )
    assert fed.status_code == 201 and fed.json()["applied"] is True

    pushed = cli("push", "run", "--once", "--json", at="2026-09-10T10:06")
    assert pushed["delivered"] == 1 and [r.event["type"] for r in receiver.got] == ["list.entry_added"]

    # The penalty under the listing is repaired (the rights chapter; it knows nothing of lists).
    proof = tmp_path / "罚款缴纳凭证.pdf"
    proof.write_bytes(PDF)
    applied = cli("repair", "apply", "--record", str(record), "--commitment", "--paid", "--rectified",
                  "--proof", str(proof), "--json", at="2026-10-08T10:00")  # fmt: skip
    cli("repair", "decide", str(applied["id"]), "--approve", "--reason", "已履行义务并作出信用承诺", "--json",
        at="2026-10-12T10:00")  # fmt: skip

    # The very next check differs: no list, no measure.
    gov = signed_in(portal, "wuhan-gov", "2026-10-12T10:01")
    after = gov.post("/api/v1/checks", json={"subject": COMPANY, "matter": "ZFCG"}).json()
    assert (after["lists"], after["measures"]) == ([], [])
    with portal.runtime.engine.connect() as conn:
        removed = [e for e in events_after(conn, after=0) if e["type"] == "list.entry_removed"]
    assert len(removed) == 1 and removed[0]["payload"]["entry"]["removed_reason"] == "repaired"
    assert removed[0]["payload"]["subject"] == COMPANY

    cli("push", "run", "--once", "--json", at="2026-10-12T10:02")
    again = cli("push", "run", "--once", "--json", at="2026-10-12T10:03")
    assert again["delivered"] == 0 and again["queued"] == 0
    types = [r.event["type"] for r in receiver.got]
    assert types == ["list.entry_added", "record.repaired", "list.entry_removed"]
    ids = [r.event["id"] for r in receiver.got]
    assert len(set(ids)) == len(ids) == 3
    for got in receiver.got:  # each correctly signed, with its event id as the idempotency key
        assert verify(sub["secret"], got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER])
        assert got.headers["Idempotency-Key"] == str(got.event["id"])
        assert not verify(
            "whsec_wrong", got.headers[TIMESTAMP_HEADER], got.body, got.headers[SIGNATURE_HEADER]
        )

    # The pull feed gives the same events, in the same order, and nothing after the last cursor.
    feed = gov.get("/api/v1/feed", params={"after": 0}).json()
    assert [e["id"] for e in feed["events"]] == ids
    assert gov.get("/api/v1/feed", params={"after": feed["next"]}).json()["events"] == []
    # An organisation with no subscription reads nothing.
    operator = login(TestClient(portal.app), "operator")
    assert operator.get("/api/v1/feed").json()["events"] == []
