"""The application chapter's figures (SQL aggregates) against counts made independently, in Python, from the
rows themselves; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from disclose.builders import COMPANY, PERSON_ID
from rights.builders import Rights
from rights.cli_helpers import Run
from web.conftest import GOVERNMENT, Portal, login
from xinyong.apply.models import check_feedback, checks, deliveries, list_entries
from xinyong.clock import CHINA

from .conftest import Receiver


def _list(cli: Run, subject: str, list_type: str, at: str) -> int:
    made = cli("lists", "propose", "--type", list_type, "--subject", subject, "--reason", "事实",
               "--basis", "依据", "--json", at=at)  # fmt: skip
    cli(
        "lists",
        "decide",
        str(made["id"]),
        "--valid-until",
        "2028-08-31",
        "--statement-waived",
        "--json",
        at=at,
    )
    return int(made["id"])


def test_figures_agree_with_counts_made_from_the_rows(
    world: tuple[Portal, Rights], cli: Run, receiver: Receiver, tmp_path: Path
) -> None:
    portal, _ = world
    cli("subscribe", "add", "--org", GOVERNMENT, "--url", receiver.url, "--events",
        "list.entry_added,list.entry_removed", "--json", at="2026-08-31T08:00")  # fmt: skip
    black = _list(cli, COMPANY, "SXBZXR", "2026-08-31T09:00")
    _list(cli, PERSON_ID, "SXBZXR", "2026-09-01T09:00")
    cli("push", "run", "--once", "--json", at="2026-09-01T09:01")

    portal.runtime.clock.set("2026-09-02T10:00")  # type: ignore[attr-defined]
    gov = login(TestClient(portal.app), "wuhan-gov")
    made = []
    for subject, matter in [(COMPANY, "ZFCG"), (COMPANY, "ZBTB"), (PERSON_ID, "ZFCG"), (COMPANY, "ZFCG")]:
        made.append(gov.post("/api/v1/checks", json={"subject": subject, "matter": matter}).json())
    cli("check", COMPANY, "--matter", "TDGY", "--json", at="2026-09-03T10:00")  # the platform itself
    first = made[0]
    gov.post(f"/api/v1/checks/{first['check_id']}/feedback",
             json={"measure": first["measures"][0]["code"], "applied": True})  # fmt: skip
    if len(first["measures"]) > 1:
        second = {"measure": first["measures"][1]["code"], "applied": False, "reason": "不适用"}
        gov.post(f"/api/v1/checks/{first['check_id']}/feedback", json=second)
    third = made[2]
    gov.post(f"/api/v1/checks/{third['check_id']}/feedback",
             json={"measure": third["measures"][0]["code"], "applied": True})  # fmt: skip
    cli("lists", "remove", str(black), "--reason", "withdrawn", "--json", at="2026-09-04T09:00")
    cli("push", "run", "--once", "--json", at="2026-09-04T09:01")

    everything = cli("apply", "figures", "--json", at="2026-09-05T09:00")
    with portal.runtime.engine.connect() as conn:
        check_rows = conn.execute(sa.select(checks)).all()
        feedback_rows = conn.execute(sa.select(check_feedback)).all()
        entry_rows = conn.execute(sa.select(list_entries)).all()
        delivered = sa.select(deliveries.c.delay_ms).where(deliveries.c.state == "delivered")
        delays = sorted(conn.execute(delivered).scalars())

    per = Counter((r.org_uscc, r.matter) for r in check_rows)
    assert {(x["org_uscc"], x["matter"]): x["checks"] for x in everything["checks"]["by_org_matter"]} == per
    assert everything["checks"]["total"] == len(check_rows) == 5
    offered = sum(len(r.answer["measures"]) for r in check_rows)
    assert everything["feedback"]["measures_offered"] == offered
    assert everything["feedback"]["measures_reported"] == len(feedback_rows)
    assert everything["feedback"]["rate"] == round(len(feedback_rows) / offered, 4)
    assert everything["feedback"]["checks_with_feedback"] == len({r.check_id for r in feedback_rows}) == 2
    assert everything["feedback"]["checks_with_measures"] == sum(
        1 for r in check_rows if r.answer["measures"]
    )
    applied = Counter(r.measure for r in feedback_rows if r.applied)
    assert {m["measure"]: m["applied"] for m in everything["measures"]} == {
        r.measure: applied[r.measure] for r in feedback_rows
    }
    added = Counter((r.list_type, r.decided_on.strftime("%Y-%m")) for r in entry_rows if r.decided_on)
    assert {(a["list_type"], a["month"]): a["count"] for a in everything["entries"]["added"]} == added
    removed = Counter((r.list_type, r.removed_reason) for r in entry_rows if r.state == "removed")
    assert {(a["list_type"], a["reason"]): a["count"] for a in everything["entries"]["removed"]} == removed
    assert removed == {("SXBZXR", "withdrawn"): 1}
    push = everything["push"]
    assert push["delivered"] == len(delays) == 3
    assert (push["p50_ms"], push["p99_ms"], push["max_ms"]) == (
        delays[math.ceil(len(delays) * 0.5) - 1],
        delays[math.ceil(len(delays) * 0.99) - 1],
        delays[-1],
    )

    # A period counts only what happened in it (days in China Standard Time, both ends included).
    day = cli(
        "apply", "figures", "--from", "2026-09-03", "--to", "2026-09-03", "--json", at="2026-09-05T09:00"
    )
    on_day = [r for r in check_rows if r.created_at.astimezone(CHINA).date() == dt.date(2026, 9, 3)]
    assert day["checks"]["total"] == len(on_day) == 1
    assert day["entries"]["added"] == [] and day["feedback"]["measures_reported"] == 0
    bad = cli("apply", "figures", "--from", "2026-13-01", "--json", at="2026-09-05T09:00", code=2)
    assert "cli.date" in bad.stderr
